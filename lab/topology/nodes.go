package topology

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// buildNodes converts the nodes mapping raw, whose names and lines come in
// order; the result is sorted by name.
func (b *builder) buildNodes(raw map[string]*rawNode, order nodeOrder) []*Node {
	if len(raw) == 0 {
		if !b.c.failedUnder("nodes") {
			b.c.add("nodes", "at least one node is required")
		}
		return nil
	}
	b.nodes = make(map[string]*Node, len(order.names))
	nodes := make([]*Node, 0, len(order.names))
	for i, name := range order.names {
		n := b.buildNode(name, raw[name], order.lines[i])
		b.nodes[name] = n
		nodes = append(nodes, n)
	}
	b.checkDuplicateAddresses(nodes)
	b.checkClusterRoles(nodes)
	return nodes
}

// buildNode resolves one node, found at line: built-in defaults, then
// `defaults:`, then the node's own keys.
func (b *builder) buildNode(name string, rn *rawNode, line int) *Node {
	path := joinKey("nodes", name)
	if rn == nil {
		rn = &rawNode{}
	}
	n := &Node{Name: name, Kind: b.kind, ASN: b.asn, Line: line}
	if rn.Kind != nil {
		n.Kind = *rn.Kind
		b.checkKind(n.Kind, path+".kind")
	}
	if rn.ASN.Set {
		n.ASN = b.checkASN(rn.ASN, path+".asn")
	}
	if rn.Address == nil {
		if !b.c.failedUnder(path + ".address") {
			b.c.add(path+".address", "address is required")
		}
	} else {
		n.Address = b.parseAddr(*rn.Address, path+".address")
	}
	if rn.RouterID != nil {
		n.RouterID = b.parseIPv4(*rn.RouterID, path+".router-id")
	} else if n.Address.Is4() {
		n.RouterID = n.Address
	} else if n.Address.IsValid() {
		b.c.add(path+".router-id", "router-id is required when the address is IPv6 (it must be an IPv4 address)")
	}
	if rn.Role != nil {
		switch r := Role(*rn.Role); r {
		case RoleRouteReflector:
			n.Role = r
			if n.Kind == KindInjector {
				b.c.add(path+".role", "an injector node keeps no RIB, so it cannot reflect routes: use kind gobgp for a route reflector")
			}
		default:
			b.c.add(path+".role", fmt.Sprintf("unknown role %q (known: route-reflector)", *rn.Role))
		}
	}
	switch {
	case rn.ClusterID != nil && n.Role != RoleRouteReflector:
		// An unknown role was reported above; do not pile on.
		if rn.Role == nil {
			b.c.add(path+".cluster-id", "cluster-id is only valid on a node with role: route-reflector")
		}
	case rn.ClusterID != nil:
		n.ClusterID = b.parseIPv4(*rn.ClusterID, path+".cluster-id")
	case n.Role == RoleRouteReflector:
		n.ClusterID = n.RouterID
	}
	// The paths below are spelled only for a node that has the key.
	if len(rn.Roles) > 0 {
		n.Roles = b.buildRoles(rn.Roles, n.Kind, path+".roles")
	}
	timers := b.timers
	if rn.Timers != nil {
		timers.apply(b.parseTimers(rn.Timers, path+".timers"))
		b.checkTimers(timers)
	}
	n.Timers = timers.Timers
	if len(rn.Prefixes) > 0 {
		n.Prefixes = b.buildPrefixes(rn.Prefixes, path+".prefixes")
	}
	if len(rn.Routes) > 0 {
		n.Routes = b.buildRoutes(rn.Routes, n.Kind, path+".routes")
	}
	return n
}

// checkDuplicateAddresses reports every node whose address an earlier node
// (in file order) already uses.
func (b *builder) checkDuplicateAddresses(nodes []*Node) {
	byLine := slices.Clone(nodes)
	slices.SortStableFunc(byLine, func(x, y *Node) int { return cmp.Compare(x.Line, y.Line) })
	owner := make(map[netip.Addr]string, len(nodes))
	for _, n := range byLine {
		if !n.Address.IsValid() {
			continue
		}
		if first, dup := owner[n.Address]; dup {
			b.c.add(joinKey("nodes", n.Name)+".address", fmt.Sprintf("address %s is already used by node %s", n.Address, first))
			continue
		}
		owner[n.Address] = n.Name
	}
}

// parseAddr parses a node or next-hop address: a plain IPv4 or IPv6 unicast
// address without zone.
func (b *builder) parseAddr(s, path string) netip.Addr {
	a, err := netip.ParseAddr(s)
	switch {
	case err != nil:
		b.c.add(path, fmt.Sprintf("%q is not an IP address", s))
	case a.Zone() != "":
		b.c.add(path, fmt.Sprintf("%s: zones are not allowed", s))
	case a.Is4In6():
		b.c.add(path, fmt.Sprintf("%s: write IPv4-mapped addresses as plain IPv4 (%s)", s, a.Unmap()))
	case a.IsUnspecified() || a.IsMulticast():
		b.c.add(path, fmt.Sprintf("%s is not a unicast address", s))
	default:
		return a
	}
	return netip.Addr{}
}

// parseIPv4 parses a router-id or cluster-id: a dotted-quad, not 0.0.0.0.
func (b *builder) parseIPv4(s, path string) netip.Addr {
	a, err := netip.ParseAddr(s)
	switch {
	case err != nil || !a.Is4():
		b.c.add(path, fmt.Sprintf("%q is not an IPv4 address (ids are written as IPv4 addresses)", s))
	case a.IsUnspecified():
		b.c.add(path, "0.0.0.0 is not a valid id")
	default:
		return a
	}
	return netip.Addr{}
}

// parsePrefix parses a canonical prefix (no host bits set).
func (b *builder) parsePrefix(s, path string) netip.Prefix {
	p, err := netip.ParsePrefix(s)
	switch {
	case err != nil:
		b.c.add(path, fmt.Sprintf("%q is not a prefix (write it like 192.168.0.0/24 or 2001:db8::/64)", s))
	case p != p.Masked():
		b.c.add(path, fmt.Sprintf("%s has host bits set (did you mean %s?)", s, p.Masked()))
	default:
		return p
	}
	return netip.Prefix{}
}

// buildPrefixes converts a node's announced prefixes.
func (b *builder) buildPrefixes(raw []rawPrefix, path string) []Prefix {
	var out []Prefix
	seen := map[netip.Prefix]int{}
	for i := range raw {
		rp, p := &raw[i], joinIndex(path, i)
		if rp.Prefix == nil {
			if !b.c.failedUnder(p) {
				b.c.add(p, "prefix is required")
			}
			continue
		}
		pfx := Prefix{Prefix: b.parsePrefix(*rp.Prefix, p+".prefix")}
		if pfx.Prefix.IsValid() {
			if first, dup := seen[pfx.Prefix]; dup {
				b.c.add(p, fmt.Sprintf("prefix %s is already announced by %s", pfx.Prefix, joinIndex(path, first)))
			}
			seen[pfx.Prefix] = i
		}
		if rp.NextHop != nil {
			pfx.NextHop = b.parseAddr(*rp.NextHop, p+".next-hop")
		}
		for j, com := range rp.Communities {
			if checkCommunity(com) {
				pfx.Communities = append(pfx.Communities, com)
			} else {
				b.c.add(joinIndex(p+".communities", j), fmt.Sprintf("%q is not a community: write ASN:VALUE with both parts 0..65535, e.g. \"65001:100\"", com))
			}
		}
		if rp.Prepend.Set {
			if rp.Prepend.in(0, 10) {
				pfx.Prepend = int(rp.Prepend.Value)
			} else {
				b.c.add(p+".prepend", fmt.Sprintf("prepend %s is out of range 0..10", rp.Prepend.Text))
			}
		}
		out = append(out, pfx)
	}
	return out
}

// checkCommunity reports whether s is a standard community "ASN:VALUE".
func checkCommunity(s string) bool {
	hi, lo, ok := strings.Cut(s, ":")
	return ok && isUint16(hi) && isUint16(lo)
}

func isUint16(s string) bool {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return false
	}
	_, err := strconv.ParseUint(s, 10, 16)
	return err == nil
}
