package topology

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
)

// linkEnd is one addressed end of a link, remembered so that later links
// can be checked against it.
type linkEnd struct {
	addr netip.Prefix
	path string
}

// buildLinks converts the links list: two different nodes and an address
// for each end, both in one subnet that no other link or node uses.
func (b *builder) buildLinks(raw []rawLink) []*Link {
	if len(raw) == 0 {
		return nil
	}
	var (
		out     []*Link
		ends    = map[netip.Addr]string{} // the first end with each address, at links[i].addresses.NODE
		subnets []linkEnd                 // every link's subnet, at links[i]
		index   = newSubnetIndex()        // of subnets
		nodes   = b.nodesByAddr()
		sorted  = slices.SortedFunc(maps.Keys(nodes), netip.Addr.Compare)
	)
	for i := range raw {
		path := joinIndex("links", i)
		l := b.link(&raw[i], path)
		if l == nil {
			continue
		}
		apath := path + ".addresses"
		ok := true
		for _, e := range []linkEnd{{l.AAddr, joinKey(apath, l.A)}, {l.BAddr, joinKey(apath, l.B)}} {
			ok = b.checkLinkEnd(e, ends, nodes) && ok
		}
		if ok {
			b.checkLinkSubnet(l.AAddr.Masked(), apath, subnets, index, nodes, sorted)
		}
		for _, e := range []linkEnd{{l.AAddr, joinKey(apath, l.A)}, {l.BAddr, joinKey(apath, l.B)}} {
			if _, used := ends[e.addr.Addr()]; !used {
				ends[e.addr.Addr()] = e.path
			}
		}
		index.add(len(subnets), l.AAddr.Masked())
		subnets = append(subnets, linkEnd{l.AAddr.Masked(), path})
		out = append(out, l)
	}
	return out
}

// nodesByAddr maps every node address to the node's name.
func (b *builder) nodesByAddr() map[netip.Addr]string {
	m := map[netip.Addr]string{}
	for _, name := range slices.Sorted(maps.Keys(b.nodes)) {
		if a := b.nodes[name].Address; a.IsValid() {
			if _, dup := m[a]; !dup {
				m[a] = name
			}
		}
	}
	return m
}

// link converts one item; it returns nil when the item is unusable.
func (b *builder) link(rl *rawLink, path string) *Link {
	if rl.Between == nil {
		if !b.c.failedUnder(path) {
			b.c.add(path+".between", "between is required: name the two nodes of the link")
		}
		return nil
	}
	names := *rl.Between
	ok := b.checkMembers(names, path+".between")
	if len(names) != 2 {
		b.c.add(path+".between", fmt.Sprintf("a link joins exactly 2 nodes, got %d", len(names)))
		return nil
	}
	if !ok {
		return nil
	}
	l := &Link{A: names[0], B: names[1], Line: b.c.index.line(path)}
	apath := path + ".addresses"
	if rl.Addresses == nil {
		if !b.c.failedUnder(path) {
			b.c.add(apath, fmt.Sprintf("addresses is required: give %s and %s an address each, e.g. {%s: 10.1.0.1/30, %s: 10.1.0.2/30}", l.A, l.B, l.A, l.B))
		}
		return nil
	}
	for _, name := range slices.Sorted(maps.Keys(rl.Addresses)) {
		if name != l.A && name != l.B {
			b.c.add(joinKey(apath, name), fmt.Sprintf("%s is not an end of this link (between: [%s, %s])", name, l.A, l.B))
			ok = false
		}
	}
	l.AAddr = b.linkAddr(rl.Addresses, l.A, apath)
	l.BAddr = b.linkAddr(rl.Addresses, l.B, apath)
	if !ok || !l.AAddr.IsValid() || !l.BAddr.IsValid() {
		return nil
	}
	bpath := joinKey(apath, l.B)
	switch {
	case l.AAddr.Addr() == l.BAddr.Addr():
		b.c.add(bpath, fmt.Sprintf("%s has the same address as %s's end", l.BAddr, l.A))
	case l.AAddr.Masked() != l.BAddr.Masked():
		b.c.add(bpath, fmt.Sprintf("%s is not in the same subnet as %s's %s", l.BAddr, l.A, l.AAddr))
	default:
		return l
	}
	return nil
}

// linkAddr parses the address of node name's end, reporting a missing or
// malformed one at apath.name.
func (b *builder) linkAddr(addrs map[string]*string, name, apath string) netip.Prefix {
	path := joinKey(apath, name)
	s, ok := addrs[name]
	if !ok || s == nil {
		if !b.c.failedUnder(path) {
			b.c.add(path, fmt.Sprintf("the address of %s's end is required", name))
		}
		return netip.Prefix{}
	}
	return b.parseInterfacePrefix(*s, path)
}

// parseInterfacePrefix parses an interface address with its prefix length,
// `10.1.0.1/30`: a unicast host address, not the subnet's network or
// (IPv4) broadcast address.
func (b *builder) parseInterfacePrefix(s, path string) netip.Prefix {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		msg := fmt.Sprintf("%q is not an interface address: write address/length, e.g. 10.1.0.1/30", s)
		if !strings.Contains(s, "/") {
			if _, aerr := netip.ParseAddr(s); aerr == nil {
				msg = fmt.Sprintf("%s has no prefix length: write it like %s/30", s, s)
			}
		}
		b.c.add(path, msg)
		return netip.Prefix{}
	}
	a, bits := p.Addr(), p.Bits()
	switch {
	case a.Is4In6():
		b.c.add(path, fmt.Sprintf("%s: write IPv4-mapped addresses as plain IPv4", s))
	case a.IsUnspecified() || a.IsMulticast():
		b.c.add(path, fmt.Sprintf("%s is not a unicast address", s))
	case a.Is4() && bits < 31 && a == p.Masked().Addr():
		b.c.add(path, fmt.Sprintf("%s is the subnet's network address; use a host address such as %s/%d", s, a.Next(), bits))
	case a.Is4() && bits < 31 && a == lastAddr(p):
		b.c.add(path, fmt.Sprintf("%s is the subnet's broadcast address; use a host address such as %s/%d", s, a.Prev(), bits))
	case a.Is6() && bits < 127 && a == p.Masked().Addr():
		b.c.add(path, fmt.Sprintf("%s is the subnet's anycast address; use a host address such as %s/%d", s, a.Next(), bits))
	default:
		return p
	}
	return netip.Prefix{}
}

// lastAddr returns the highest address of p's subnet.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// checkLinkEnd reports an end whose address a node or an earlier link end
// (ends: address to the first end's path) already uses.
func (b *builder) checkLinkEnd(e linkEnd, ends map[netip.Addr]string, nodes map[netip.Addr]string) bool {
	a := e.addr.Addr()
	if name, ok := nodes[a]; ok {
		b.c.add(e.path, fmt.Sprintf("address %s is node %s's address", a, name))
		return false
	}
	if prev, ok := ends[a]; ok {
		b.c.add(e.path, fmt.Sprintf("address %s is already used by %s", a, prev))
		return false
	}
	return true
}

// checkLinkSubnet reports a link subnet that overlaps an earlier link's
// (prev, indexed by index) or holds a node's address (sorted lists the
// node addresses of nodes in order): its connected route would capture
// traffic meant for the other link or for the node.
func (b *builder) checkLinkSubnet(subnet netip.Prefix, path string, prev []linkEnd, index *subnetIndex, nodes map[netip.Addr]string, sorted []netip.Addr) {
	if i := index.first(subnet); i >= 0 {
		p := prev[i]
		b.c.add(path, fmt.Sprintf("subnet %s overlaps the subnet %s of %s", subnet, p.addr, p.path))
		return
	}
	// The node addresses inside subnet follow its first address in order.
	from, _ := slices.BinarySearchFunc(sorted, subnet.Addr(), netip.Addr.Compare)
	for _, na := range sorted[from:] {
		if subnet.Contains(na) {
			b.c.add(path, fmt.Sprintf("subnet %s holds node %s's address %s", subnet, nodes[na], na))
			return
		}
		if na.BitLen() != subnet.Addr().BitLen() || na.WithZone("").Compare(lastAddr(subnet)) > 0 {
			return
		}
	}
}
