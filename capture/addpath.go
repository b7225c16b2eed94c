package capture

import (
	"slices"
	"strings"

	"github.com/osrg/gobgp/v4/pkg/packet/bgp"
)

// pathIDLen is the length of an ADD-PATH path identifier (RFC 7911).
const pathIDLen = 4

// pathIDFamilies lists the families whose NLRI one speaker sends with a
// path identifier: those it advertised ADD-PATH "send" for and its peer
// "receive" (RFC 7911 section 4). BIRD advertises ADD-PATH on Calico
// sessions, so its UPDATEs cannot be read without this.
type pathIDFamilies []bgp.Family

// has reports whether NLRI of afi/safi carry path identifiers.
func (p pathIDFamilies) has(afi uint16, safi uint8) bool {
	return len(p) > 0 && slices.Contains(p, bgp.NewFamily(afi, safi))
}

// marshallingOption tells GoBGP's parser the same thing, or is nil.
func (p pathIDFamilies) marshallingOption() *bgp.MarshallingOption {
	if len(p) == 0 {
		return nil
	}
	m := make(map[bgp.Family]bgp.BGPAddPathMode, len(p))
	for _, f := range p {
		m[f] = bgp.BGP_ADD_PATH_RECEIVE // GoBGP decodes path ids when it "receives" them
	}
	return &bgp.MarshallingOption{AddPath: m}
}

// negotiatePathIDs returns the families for which the sender of OPEN
// sender includes path identifiers towards the sender of OPEN receiver.
func negotiatePathIDs(sender, receiver *OpenInfo) pathIDFamilies {
	var out pathIDFamilies
	for _, s := range sender.addPath {
		if s.Mode&bgp.BGP_ADD_PATH_SEND == 0 {
			continue
		}
		for _, r := range receiver.addPath {
			if r.Family == s.Family && r.Mode&bgp.BGP_ADD_PATH_RECEIVE != 0 && !slices.Contains(out, s.Family) {
				out = append(out, s.Family)
			}
		}
	}
	return out
}

// addPathCapability names an ADD-PATH capability with its tuples, e.g.
// "add-path(ipv4-unicast:receive/send)".
func addPathCapability(c *bgp.CapAddPath) string {
	parts := make([]string, 0, len(c.Tuples))
	for _, t := range c.Tuples {
		parts = append(parts, t.Family.String()+":"+t.Mode.String())
	}
	return "add-path(" + strings.Join(parts, ",") + ")"
}
