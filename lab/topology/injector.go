package topology

import (
	"fmt"
	"slices"
)

// checkInjectorSession reports session options an injector end cannot
// honour: it has no TCP MD5 and no TTL handling of its own.
func (b *builder) checkInjectorSession(s *Session, path string) {
	for _, end := range []string{s.A, s.B} {
		n := b.nodes[end]
		if n == nil || n.Kind != KindInjector {
			continue
		}
		if s.Password != "" {
			b.c.add(path+".password", fmt.Sprintf("node %s is an injector, which does not sign TCP segments (MD5): use kind gobgp", end))
		}
		if s.Multihop != 0 || s.TTLSecurity != 0 {
			b.c.add(path, fmt.Sprintf("node %s is an injector, which supports neither multihop nor ttl-security: use kind gobgp", end))
		}
	}
}

// checkInjectorPeers reports an injector node whose sessions mix iBGP and
// eBGP: its table is packed once, with one kind of attributes.
func (b *builder) checkInjectorPeers(nodes []*Node, sessions []*Session) {
	for _, n := range nodes {
		if n.Kind != KindInjector {
			continue
		}
		var ibgp, ebgp []string
		for _, s := range sessions {
			if s.A != n.Name && s.B != n.Name {
				continue
			}
			other := s.A
			if other == n.Name {
				other = s.B
			}
			o := b.nodes[other]
			if o == nil {
				continue
			}
			as := o.ASN
			if v, ok := s.PeerASN[other]; ok {
				as = v
			}
			if as == n.ASN {
				ibgp = append(ibgp, other)
			} else {
				ebgp = append(ebgp, other)
			}
		}
		if len(ibgp) > 0 && len(ebgp) > 0 {
			slices.Sort(ibgp)
			slices.Sort(ebgp)
			b.c.add(joinKey("nodes", n.Name), fmt.Sprintf(
				"an injector's sessions must be all iBGP or all eBGP (it packs its table once): iBGP with %v, eBGP with %v", ibgp, ebgp))
		}
	}
}
