package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/osrg/gobgp/v4/pkg/packet/bgp"
)

// MaxPrefixesPerUpdate is how many announced and withdrawn prefixes an
// UpdateInfo keeps; the rest are only counted.
const MaxPrefixesPerUpdate = 3

// Path attribute type codes used by the scanner.
const (
	attrOrigin       = 1
	attrASPath       = 2
	attrNextHop      = 3
	attrMED          = 4
	attrLocalPref    = 5
	attrCommunities  = 8
	attrOriginatorID = 9
	attrClusterList  = 10
	attrMPReach      = 14
	attrMPUnreach    = 15
	attrLargeComm    = 32
	attrFlagExtended = 0x10
)

// errUnknownFamily makes the scanner hand a message to GoBGP's parser.
var errUnknownFamily = errors.New("bgp: NLRI family not handled by the fast scanner")

// updateInfoBlock holds an UpdateInfo and the backing array of its prefix
// slices, so that one UPDATE costs one allocation.
type updateInfoBlock struct {
	info UpdateInfo
	ann  [MaxPrefixesPerUpdate]netip.Prefix
	wd   [MaxPrefixesPerUpdate]netip.Prefix
}

// updateScanner decodes UPDATE bodies into UpdateInfo without allocating
// per prefix. Repeated AS paths and community lists are interned, so a
// table dump shares their slices. The UpdateInfo it returns lives in the
// scanner's scratch block and is valid until the next scan: a caller that
// keeps it copies it (see detached). It is not safe for concurrent use.
type updateScanner struct {
	paths      map[string]internedPath
	comms      map[string][]string // COMMUNITIES by raw bytes
	largeComms map[string][]string // LARGE_COMMUNITY by raw bytes
	scratch    updateInfoBlock
}

type internedPath struct {
	asns []uint32
	text string
}

// internLimit bounds each intern table.
const internLimit = 1 << 14

func newUpdateScanner() *updateScanner {
	return &updateScanner{paths: map[string]internedPath{}, comms: map[string][]string{}, largeComms: map[string][]string{}}
}

// scan decodes the body of an UPDATE (header excluded). as4 is +1 when
// 4-octet AS numbers were negotiated, -1 when not, 0 when unknown;
// pathIDs are the families whose NLRI the sender prefixes with an ADD-PATH
// path identifier.
func (u *updateScanner) scan(body []byte, as4 int, pathIDs pathIDFamilies) (*UpdateInfo, error) {
	blk := &u.scratch
	*blk = updateInfoBlock{}
	info := &blk.info
	if len(body) < 4 {
		return nil, errors.New("bgp: UPDATE shorter than its length fields")
	}
	wlen := int(binary.BigEndian.Uint16(body))
	if 2+wlen+2 > len(body) {
		return nil, errors.New("bgp: withdrawn routes length exceeds message")
	}
	v4PathIDs := pathIDs.has(bgp.AFI_IP, bgp.SAFI_UNICAST)
	n, err := walkPrefixes(body[2:2+wlen], 4, v4PathIDs, blk.wd[:0], &info.FirstWithdrawn)
	if err != nil {
		return nil, fmt.Errorf("withdrawn routes: %w", err)
	}
	info.Withdrawn += n
	rest := body[2+wlen:]
	alen := int(binary.BigEndian.Uint16(rest))
	if 2+alen > len(rest) {
		return nil, errors.New("bgp: path attribute length exceeds message")
	}
	attrs := rest[2 : 2+alen]
	nlri := rest[2+alen:]
	if err := u.scanAttrs(attrs, as4, pathIDs, blk); err != nil {
		return nil, err
	}
	n, err = walkPrefixes(nlri, 4, v4PathIDs, keepFrom(info.FirstAnnounced, blk.ann[:0]), &info.FirstAnnounced)
	if err != nil {
		return nil, fmt.Errorf("NLRI: %w", err)
	}
	info.Announced += n
	if wlen == 0 && alen == 0 && len(nlri) == 0 {
		info.EndOfRIB = true
		info.Family = "ipv4-unicast"
	}
	return info, nil
}

func (u *updateScanner) scanAttrs(b []byte, as4 int, pathIDs pathIDFamilies, blk *updateInfoBlock) error {
	info := &blk.info
	onlyUnreach := true
	attrCount := 0
	for len(b) > 0 {
		if len(b) < 3 {
			return errors.New("bgp: truncated path attribute header")
		}
		flags, typ := b[0], b[1]
		hdr, l := 3, int(b[2])
		if flags&attrFlagExtended != 0 {
			if len(b) < 4 {
				return errors.New("bgp: truncated path attribute header")
			}
			hdr, l = 4, int(binary.BigEndian.Uint16(b[2:4]))
		}
		if hdr+l > len(b) {
			return fmt.Errorf("bgp: path attribute %d length %d exceeds attributes", typ, l)
		}
		v := b[hdr : hdr+l]
		b = b[hdr+l:]
		attrCount++
		if typ != attrMPUnreach {
			onlyUnreach = false
		}
		var err error
		switch typ {
		case attrASPath:
			err = u.asPath(v, as4, info)
		case attrNextHop:
			if l != 4 {
				return fmt.Errorf("bgp: NEXT_HOP length %d", l)
			}
			info.NextHop = netip.AddrFrom4([4]byte(v))
		case attrMED:
			if l != 4 {
				return fmt.Errorf("bgp: MULTI_EXIT_DISC length %d", l)
			}
			info.MED = binary.BigEndian.Uint32(v)
		case attrLocalPref:
			if l != 4 {
				return fmt.Errorf("bgp: LOCAL_PREF length %d", l)
			}
			info.LocalPref = binary.BigEndian.Uint32(v)
		case attrCommunities:
			err = u.communities(v, 4, info)
		case attrLargeComm:
			err = u.communities(v, 12, info)
		case attrOriginatorID:
			if l != 4 {
				return fmt.Errorf("bgp: ORIGINATOR_ID length %d", l)
			}
			info.OriginatorID = netip.AddrFrom4([4]byte(v))
		case attrClusterList:
			if l%4 != 0 {
				return fmt.Errorf("bgp: CLUSTER_LIST length %d", l)
			}
			info.ClusterList = make([]netip.Addr, 0, l/4)
			for i := 0; i < l; i += 4 {
				info.ClusterList = append(info.ClusterList, netip.AddrFrom4([4]byte(v[i:i+4])))
			}
		case attrMPReach:
			err = mpReach(v, pathIDs, blk)
		case attrMPUnreach:
			err = mpUnreach(v, pathIDs, blk)
		}
		if err != nil {
			return err
		}
	}
	if onlyUnreach && attrCount == 1 && info.Withdrawn == 0 {
		info.EndOfRIB = true
	}
	return nil
}

// asPath decodes AS_PATH segments, interning the result by raw bytes.
func (u *updateScanner) asPath(v []byte, as4 int, info *UpdateInfo) error {
	raw := v
	if p, ok := u.paths[string(raw)]; ok {
		info.ASPath, info.ASPathText = p.asns, p.text
		return nil
	}
	width := 4
	switch {
	case as4 < 0:
		width = 2
	case as4 == 0 && !segmentsFit(v, 4) && segmentsFit(v, 2):
		width = 2
	}
	if !segmentsFit(v, width) {
		return errors.New("bgp: malformed AS_PATH")
	}
	var asns []uint32
	var sb strings.Builder
	for len(v) > 0 {
		segType, cnt := v[0], int(v[1])
		v = v[2:]
		if sb.Len() > 0 {
			sb.WriteByte(' ')
		}
		open, sep, closing := "", " ", ""
		switch segType {
		case 1: // AS_SET
			open, sep, closing = "{", ",", "}"
		case 3: // AS_CONFED_SEQUENCE
			open, closing = "(", ")"
		case 4: // AS_CONFED_SET
			open, sep, closing = "[", ",", "]"
		}
		sb.WriteString(open)
		for i := 0; i < cnt; i++ {
			var as uint32
			if width == 4 {
				as = binary.BigEndian.Uint32(v)
			} else {
				as = uint32(binary.BigEndian.Uint16(v))
			}
			v = v[width:]
			if i > 0 {
				sb.WriteString(sep)
			}
			sb.WriteString(strconv.FormatUint(uint64(as), 10))
			asns = append(asns, as)
		}
		sb.WriteString(closing)
	}
	p := internedPath{asns: asns, text: sb.String()}
	if len(u.paths) < internLimit {
		u.paths[string(raw)] = p
	}
	info.ASPath, info.ASPathText = p.asns, p.text
	return nil
}

// segmentsFit reports whether v is a whole number of AS path segments
// with ASNs of the given width.
func segmentsFit(v []byte, width int) bool {
	for len(v) > 0 {
		if len(v) < 2 || v[0] < 1 || v[0] > 4 {
			return false
		}
		n := 2 + int(v[1])*width
		if n > len(v) {
			return false
		}
		v = v[n:]
	}
	return true
}

// communities decodes COMMUNITIES (size 4) or LARGE_COMMUNITY (size 12)
// and appends their text forms, interned by raw bytes.
func (u *updateScanner) communities(v []byte, size int, info *UpdateInfo) error {
	if len(v)%size != 0 {
		return fmt.Errorf("bgp: community attribute length %d is not a multiple of %d", len(v), size)
	}
	table := u.comms
	if size == 12 {
		table = u.largeComms
	}
	c, ok := table[string(v)] // no allocation for the lookup
	if !ok {
		c = make([]string, 0, len(v)/size)
		for i := 0; i < len(v); i += size {
			if size == 4 {
				c = append(c, communityString(binary.BigEndian.Uint32(v[i:])))
				continue
			}
			c = append(c, fmt.Sprintf("%d:%d:%d", binary.BigEndian.Uint32(v[i:]),
				binary.BigEndian.Uint32(v[i+4:]), binary.BigEndian.Uint32(v[i+8:])))
		}
		if len(table) < internLimit {
			table[string(v)] = c
		}
	}
	if len(info.Communities) == 0 {
		info.Communities = c
		return nil
	}
	merged := make([]string, 0, len(info.Communities)+len(c))
	info.Communities = append(append(merged, info.Communities...), c...)
	return nil
}

// communityString formats a standard community, naming well-known ones.
func communityString(c uint32) string {
	switch c {
	case 0xFFFFFF01:
		return "no-export"
	case 0xFFFFFF02:
		return "no-advertise"
	case 0xFFFFFF03:
		return "no-export-subconfed"
	case 0xFFFF0000:
		return "graceful-shutdown"
	case 0xFFFF029A:
		return "blackhole"
	}
	return strconv.FormatUint(uint64(c>>16), 10) + ":" + strconv.FormatUint(uint64(c&0xffff), 10)
}

// mpReach decodes MP_REACH_NLRI: family, next hop, and NLRI counts.
func mpReach(v []byte, pathIDs pathIDFamilies, blk *updateInfoBlock) error {
	info := &blk.info
	if len(v) < 5 {
		return errors.New("bgp: MP_REACH_NLRI too short")
	}
	afi, safi, nhLen := binary.BigEndian.Uint16(v), v[2], int(v[3])
	if 4+nhLen+1 > len(v) {
		return errors.New("bgp: MP_REACH_NLRI next hop exceeds attribute")
	}
	info.Family = bgp.NewFamily(afi, safi).String()
	nh := v[4 : 4+nhLen]
	if safi == bgp.SAFI_MPLS_VPN && len(nh) >= 8 {
		nh = nh[8:] // route distinguisher, always zero
	}
	switch {
	case len(nh) == 4:
		info.NextHop = netip.AddrFrom4([4]byte(nh))
	case len(nh) >= 16:
		info.NextHop = netip.AddrFrom16([16]byte(nh[:16]))
	}
	n, err := countNLRI(afi, safi, v[4+nhLen+1:], pathIDs.has(afi, safi), blk.ann[:0], &info.FirstAnnounced)
	info.Announced += n
	return err
}

// mpUnreach decodes MP_UNREACH_NLRI counts.
func mpUnreach(v []byte, pathIDs pathIDFamilies, blk *updateInfoBlock) error {
	info := &blk.info
	if len(v) < 3 {
		return errors.New("bgp: MP_UNREACH_NLRI too short")
	}
	afi, safi := binary.BigEndian.Uint16(v), v[2]
	if info.Family == "" {
		info.Family = bgp.NewFamily(afi, safi).String()
	}
	n, err := countNLRI(afi, safi, v[3:], pathIDs.has(afi, safi), blk.wd[:0], &info.FirstWithdrawn)
	info.Withdrawn += n
	return err
}

// countNLRI counts the NLRI of a family the scanner knows; for the others
// it returns errUnknownFamily so that the caller falls back to GoBGP.
// pathID says each NLRI starts with a 4-octet ADD-PATH path identifier.
func countNLRI(afi uint16, safi uint8, b []byte, pathID bool, keep []netip.Prefix, out *[]netip.Prefix) (int, error) {
	addrLen := 4
	if afi == bgp.AFI_IP6 {
		addrLen = 16
	} else if afi != bgp.AFI_IP {
		return 0, errUnknownFamily
	}
	switch safi {
	case bgp.SAFI_UNICAST, bgp.SAFI_MULTICAST:
		return walkPrefixes(b, addrLen, pathID, keepFrom(*out, keep), out)
	case bgp.SAFI_MPLS_LABEL, bgp.SAFI_MPLS_VPN:
		return walkLengths(b, pathID)
	}
	return 0, errUnknownFamily
}

// walkPrefixes validates and counts length-prefixed IP prefixes, storing
// the first ones into keep (whose capacity bounds how many) and *out.
// With pathID each prefix follows a 4-octet path identifier (RFC 7911).
func walkPrefixes(b []byte, addrLen int, pathID bool, keep []netip.Prefix, out *[]netip.Prefix) (int, error) {
	n := 0
	for len(b) > 0 {
		if pathID {
			if len(b) < pathIDLen+1 {
				return n, errors.New("bgp: NLRI path identifier exceeds its field")
			}
			b = b[pathIDLen:]
		}
		bits := int(b[0])
		if bits > addrLen*8 {
			return n, fmt.Errorf("bgp: prefix length %d too long", bits)
		}
		nb := (bits + 7) / 8
		if 1+nb > len(b) {
			return n, errors.New("bgp: prefix exceeds its field")
		}
		if len(keep) < cap(keep) {
			var a [16]byte
			copy(a[:], b[1:1+nb])
			var addr netip.Addr
			if addrLen == 4 {
				addr = netip.AddrFrom4([4]byte(a[:4]))
			} else {
				addr = netip.AddrFrom16(a)
			}
			keep = append(keep, netip.PrefixFrom(addr, bits))
			*out = keep
		}
		b = b[1+nb:]
		n++
	}
	return n, nil
}

// walkLengths counts NLRI that are a bit length followed by that many bits
// (labeled unicast and VPN routes), each after a path identifier with pathID.
func walkLengths(b []byte, pathID bool) (int, error) {
	n := 0
	for len(b) > 0 {
		if pathID {
			if len(b) < pathIDLen+1 {
				return n, errors.New("bgp: NLRI path identifier exceeds its field")
			}
			b = b[pathIDLen:]
		}
		nb := (int(b[0]) + 7) / 8
		if 1+nb > len(b) {
			return n, errors.New("bgp: NLRI exceeds its field")
		}
		b = b[1+nb:]
		n++
	}
	return n, nil
}

// keepFrom continues filling kept prefixes already stored, or starts on the
// empty backing slice.
func keepFrom(kept, empty []netip.Prefix) []netip.Prefix {
	if len(kept) > 0 {
		return kept
	}
	return empty
}
