package capture

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/osrg/gobgp/v4/pkg/packet/bgp"
)

// updateInfoFromGoBGP converts an UPDATE parsed by GoBGP. It is the slow
// path, used for families the scanner does not handle and by
// DecodeOptions.GoBGPUpdates.
func updateInfoFromGoBGP(u *bgp.BGPUpdate) *UpdateInfo {
	blk := &updateInfoBlock{}
	info := &blk.info
	addPrefixes := func(nlri []bgp.PathNLRI, arr []netip.Prefix, out *[]netip.Prefix) int {
		keep := keepFrom(*out, arr)
		for _, n := range nlri {
			if len(keep) == cap(keep) {
				break
			}
			if p, err := netip.ParsePrefix(n.NLRI.String()); err == nil {
				keep = append(keep, p)
				*out = keep
			}
		}
		return len(nlri)
	}
	info.Withdrawn += addPrefixes(u.WithdrawnRoutes, blk.wd[:0], &info.FirstWithdrawn)
	info.Announced += addPrefixes(u.NLRI, blk.ann[:0], &info.FirstAnnounced)
	for _, a := range u.PathAttributes {
		switch v := a.(type) {
		case *bgp.PathAttributeAsPath:
			var parts []string
			for _, seg := range v.Value {
				var asns []string
				for _, as := range seg.GetAS() {
					info.ASPath = append(info.ASPath, as)
					asns = append(asns, strconv.FormatUint(uint64(as), 10))
				}
				switch seg.GetType() {
				case 1:
					parts = append(parts, "{"+strings.Join(asns, ",")+"}")
				case 3:
					parts = append(parts, "("+strings.Join(asns, " ")+")")
				case 4:
					parts = append(parts, "["+strings.Join(asns, ",")+"]")
				default:
					parts = append(parts, strings.Join(asns, " "))
				}
			}
			info.ASPathText = strings.Join(parts, " ")
		case *bgp.PathAttributeNextHop:
			info.NextHop = v.Value
		case *bgp.PathAttributeMultiExitDisc:
			info.MED = v.Value
		case *bgp.PathAttributeLocalPref:
			info.LocalPref = v.Value
		case *bgp.PathAttributeCommunities:
			for _, c := range v.Value {
				info.Communities = append(info.Communities, communityString(c))
			}
		case *bgp.PathAttributeLargeCommunities:
			for _, c := range v.Values {
				info.Communities = append(info.Communities, c.String())
			}
		case *bgp.PathAttributeOriginatorId:
			info.OriginatorID = v.Value
		case *bgp.PathAttributeClusterList:
			info.ClusterList = append(info.ClusterList, v.Value...)
		case *bgp.PathAttributeMpReachNLRI:
			info.Family = bgp.NewFamily(v.AFI, v.SAFI).String()
			info.NextHop = v.Nexthop
			info.Announced += addPrefixes(v.Value, blk.ann[:0], &info.FirstAnnounced)
		case *bgp.PathAttributeMpUnreachNLRI:
			if info.Family == "" {
				info.Family = bgp.NewFamily(v.AFI, v.SAFI).String()
			}
			info.Withdrawn += addPrefixes(v.Value, blk.wd[:0], &info.FirstWithdrawn)
		}
	}
	if eor, f := u.IsEndOfRib(); eor {
		info.EndOfRIB = true
		info.Family = f.String()
	}
	return info
}
