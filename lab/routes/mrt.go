package routes

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"

	"github.com/osrg/gobgp/v4/pkg/packet/bgp"
	"github.com/osrg/gobgp/v4/pkg/packet/mrt"

	"github.com/peerlab/peerlab/speaker"
)

// MRTOptions tunes ReadMRT.
type MRTOptions struct {
	// NextHop replaces every route's next hop when valid (a lab speaker
	// usually sends itself as next hop: the dump's next hops belong to
	// the original peers and are not reachable in the lab). Zero keeps
	// the dump's next hops.
	NextHop netip.Addr
	// Limit stops reading after this many routes (0: no limit).
	Limit int
}

// maxMRTRecord bounds one MRT record: TABLE_DUMP_V2 RIB records of real
// full-table dumps stay far below it.
const maxMRTRecord = 16 << 20

// ReadMRT reads the unicast routes of a TABLE_DUMP_V2 dump (RIB_IPV4_UNICAST
// and RIB_IPV6_UNICAST records): for each prefix the first RIB entry, with
// its AS path, communities, MED, LOCAL_PREF and next hop as they are.
// Records of other types are skipped; a malformed record is an error that
// names its position.
func ReadMRT(r io.Reader, opts MRTOptions) ([]speaker.Route, error) {
	var out []speaker.Route
	err := EachMRT(r, opts, func(route speaker.Route) error {
		out = append(out, route)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// EachMRT calls fn with each route ReadMRT would return, as it reads, so
// a full-table dump is never held whole. AS paths and community lists
// are interned: routes share them, and fn must not modify them. The
// first error from fn stops EachMRT and is returned.
func EachMRT(r io.Reader, opts MRTOptions, fn func(speaker.Route) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxMRTRecord)
	sc.Split(mrt.SplitMrt)
	n := 0
	paths := map[string][]uint32{} // interned AS paths
	comms := map[string][]string{} // interned community lists
	for rec := 0; sc.Scan(); rec++ {
		data := sc.Bytes()
		h, err := mrt.ParseHeader(data[:mrt.MRT_COMMON_HEADER_LEN])
		if err != nil {
			return fmt.Errorf("read MRT record %d: %w", rec, err)
		}
		if !knownMRTType(h.Type) {
			return fmt.Errorf("read MRT record %d: type %d is not an MRT record type: not an MRT file", rec, h.Type)
		}
		if h.Type != mrt.TABLE_DUMPv2 {
			continue
		}
		st := mrt.MRTSubTypeTableDumpv2(h.SubType)
		if st != mrt.RIB_IPV4_UNICAST && st != mrt.RIB_IPV6_UNICAST {
			continue
		}
		msg, err := mrt.ParseBody(data[mrt.MRT_COMMON_HEADER_LEN:], h)
		if err != nil {
			return fmt.Errorf("read MRT record %d: %w", rec, err)
		}
		rib, ok := msg.Body.(*mrt.Rib)
		if !ok || len(rib.Entries) == 0 {
			continue
		}
		route, err := ribRoute(rib, paths, comms)
		if err != nil {
			return fmt.Errorf("read MRT record %d: %w", rec, err)
		}
		if opts.NextHop.IsValid() {
			route.NextHop = opts.NextHop
		}
		if err := fn(route); err != nil {
			return err
		}
		n++
		if opts.Limit > 0 && n >= opts.Limit {
			return nil
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read MRT after %d routes: %w", n, err)
	}
	return nil
}

// knownMRTType reports whether t is a record type of RFC 6396 still in
// use (types 0 to 10 are deprecated; a file of zeros is all type 0).
func knownMRTType(t mrt.MRTType) bool {
	switch t {
	case mrt.OSPFv2, mrt.TABLE_DUMP, mrt.TABLE_DUMPv2, mrt.BGP4MP, mrt.BGP4MP_ET,
		mrt.ISIS, mrt.ISIS_ET, mrt.OSPFv3, mrt.OSPFv3_ET:
		return true
	}
	return false
}

// ribRoute turns the first entry of a RIB record into a route.
func ribRoute(rib *mrt.Rib, paths map[string][]uint32, comms map[string][]string) (speaker.Route, error) {
	var r speaker.Route
	switch n := rib.Prefix.(type) {
	case *bgp.IPAddrPrefix:
		r.Prefix = n.Prefix
	default:
		return r, fmt.Errorf("unsupported prefix %v", rib.Prefix)
	}
	if !r.Prefix.IsValid() {
		return r, errors.New("invalid prefix")
	}
	for _, a := range rib.Entries[0].PathAttributes {
		switch a := a.(type) {
		case *bgp.PathAttributeAsPath:
			var as []uint32
			for _, seg := range a.Value {
				as = append(as, seg.GetAS()...)
			}
			r.ASPath = intern(paths, fmt.Sprint(as), as)
		case *bgp.PathAttributeCommunities:
			cs := make([]string, len(a.Value))
			for i, v := range a.Value {
				cs[i] = speaker.FormatCommunity(v)
			}
			r.Communities = intern(comms, fmt.Sprint(cs), cs)
		case *bgp.PathAttributeMultiExitDisc:
			r.MED = a.Value
		case *bgp.PathAttributeLocalPref:
			r.LocalPref = a.Value
		case *bgp.PathAttributeNextHop:
			r.NextHop = a.Value
		case *bgp.PathAttributeMpReachNLRI:
			if a.Nexthop.IsValid() {
				r.NextHop = a.Nexthop
			}
		}
	}
	return r, nil
}

// intern returns the slice already stored under key, or stores v.
func intern[T any](m map[string][]T, key string, v []T) []T {
	if old, ok := m[key]; ok {
		return old
	}
	m[key] = v
	return v
}
