package inject

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/peerlab/peerlab/speaker"
)

// Path attribute type codes (RFC 4271 section 5, RFC 1997, RFC 4760).
const (
	attrOrigin      = 1
	attrASPath      = 2
	attrNextHop     = 3
	attrMED         = 4
	attrLocalPref   = 5
	attrCommunities = 8
	attrMPReach     = 14
	attrMPUnreach   = 15
)

// Path attribute flags.
const (
	flagOptional   = 0x80
	flagTransitive = 0x40
	flagExtended   = 0x10
)

// asSequence is the AS_PATH segment type of an ordered path.
const asSequence = 2

// maxSegment is the most AS numbers one AS_PATH segment holds.
const maxSegment = 255

// defaultLocalPref is the LOCAL_PREF sent to iBGP peers when a route
// names none.
const defaultLocalPref = 100

// encoding is how routes become path attributes for one kind of peer.
type encoding struct {
	localAS uint32
	ebgp    bool
	// nextHop4 and nextHop6 are the defaults for routes without a next hop.
	nextHop4, nextHop6 netip.Addr
}

// appendAttr appends one path attribute with its header, using the
// extended length form when the value needs it.
func appendAttr(b []byte, flags, code byte, value []byte) []byte {
	if len(value) > 255 {
		b = append(b, flags|flagExtended, code)
		b = binary.BigEndian.AppendUint16(b, uint16(len(value)))
	} else {
		b = append(b, flags, code, byte(len(value)))
	}
	return append(b, value...)
}

// appendAttrs appends r's path attributes, except the next hop of an
// IPv6 route (it travels in MP_REACH_NLRI, see group), to b. tmp is
// scratch space; the grown tmp is returned with b.
func (e encoding) appendAttrs(b, tmp []byte, r speaker.Route) ([]byte, []byte, error) {
	b = appendAttr(b, flagTransitive, attrOrigin, []byte{0}) // IGP

	// AS_PATH: the local AS (eBGP, and Prepend extra times), then r's path.
	tmp = tmp[:0]
	own := r.Prepend
	if e.ebgp {
		own++
	}
	total := own + len(r.ASPath)
	for i := 0; i < total; {
		n := min(total-i, maxSegment)
		tmp = append(tmp, asSequence, byte(n))
		for k := i; k < i+n; k++ {
			as := e.localAS
			if k >= own {
				as = r.ASPath[k-own]
			}
			tmp = binary.BigEndian.AppendUint32(tmp, as)
		}
		i += n
	}
	b = appendAttr(b, flagTransitive, attrASPath, tmp)

	if r.Prefix.Addr().Is4() {
		nh := r.NextHop
		if !nh.IsValid() {
			nh = e.nextHop4
		}
		if !nh.Is4() {
			return b, tmp, fmt.Errorf("route %s: next hop %v is not an IPv4 address", r.Prefix, nh)
		}
		a := nh.As4()
		b = appendAttr(b, flagTransitive, attrNextHop, a[:])
	}
	if r.MED != 0 {
		b = appendAttr(b, flagOptional, attrMED, binary.BigEndian.AppendUint32(tmp[:0], r.MED))
	}
	if !e.ebgp {
		lp := r.LocalPref
		if lp == 0 {
			lp = defaultLocalPref
		}
		b = appendAttr(b, flagTransitive, attrLocalPref, binary.BigEndian.AppendUint32(tmp[:0], lp))
	}
	if len(r.Communities) > 0 {
		tmp = tmp[:0]
		for _, c := range r.Communities {
			v, err := speaker.ParseCommunity(c)
			if err != nil {
				return b, tmp, fmt.Errorf("route %s: %w", r.Prefix, err)
			}
			tmp = binary.BigEndian.AppendUint32(tmp, v)
		}
		b = appendAttr(b, flagOptional|flagTransitive, attrCommunities, tmp)
	}
	return b, tmp, nil
}

// nextHop6 is the next hop an IPv6 route is sent with.
func (e encoding) nextHop6For(r speaker.Route) (netip.Addr, error) {
	nh := r.NextHop
	if !nh.IsValid() {
		nh = e.nextHop6
	}
	if !nh.IsValid() {
		return nh, fmt.Errorf("route %s: no IPv6 next hop (set one on the route or the injector)", r.Prefix)
	}
	if nh.Is4() {
		nh = netip.AddrFrom16(nh.As16()) // IPv4-mapped, as GoBGP sends it
	}
	return nh, nil
}

// appendPrefix appends pfx in NLRI form: its length, then the bytes that
// hold its bits.
func appendPrefix(b []byte, pfx netip.Prefix) []byte {
	bits := pfx.Bits()
	b = append(b, byte(bits))
	raw := pfx.Addr().AsSlice()
	return append(b, raw[:(bits+7)/8]...)
}
