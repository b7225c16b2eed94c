package topology

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Address families a session may carry.
const (
	FamilyIPv4Unicast = "ipv4-unicast"
	FamilyIPv6Unicast = "ipv6-unicast"
)

// pairKey identifies an unordered node pair.
type pairKey struct{ lo, hi string }

func keyOf(a, b string) pairKey {
	if a > b {
		a, b = b, a
	}
	return pairKey{a, b}
}

// sessionBuilder expands the peerings, remembering where each pair was
// first declared.
type sessionBuilder struct {
	*builder
	pairs    map[pairKey]string
	sessions []*Session
}

// buildSessions expands every peering statement into sessions, in file
// order.
func (b *builder) buildSessions(raw []rawPeering) []*Session {
	sb := &sessionBuilder{builder: b, pairs: map[pairKey]string{}}
	for i := range raw {
		sb.peering(&raw[i], joinIndex("peerings", i))
	}
	return sb.sessions
}

// pair is one session a peering statement asks for, with the path to blame
// if the pair is declared twice.
type pair struct {
	a, b string
	path string
}

func (sb *sessionBuilder) peering(rp *rawPeering, path string) {
	var forms []string
	if rp.Mesh != nil {
		forms = append(forms, "mesh")
	}
	if rp.RouteReflector != nil {
		forms = append(forms, "route-reflector")
	}
	if rp.Between != nil {
		forms = append(forms, "between")
	}
	if rp.Clients != nil && rp.RouteReflector == nil {
		sb.c.add(path+".clients", "clients is only valid with route-reflector")
	}
	var (
		kind      SessionKind
		members   []string
		pairs     []pair
		reflector string
	)
	switch {
	case len(forms) == 0:
		if !sb.c.failedUnder(path) {
			sb.c.add(path, "peering needs one of mesh, route-reflector, between")
		}
		return
	case len(forms) > 1:
		sb.c.add(path, fmt.Sprintf("a peering uses exactly one of mesh, route-reflector, between; got %s", strings.Join(forms, " and ")))
		return
	case rp.Mesh != nil:
		kind, members = SessionMesh, *rp.Mesh
		ok := sb.checkMembers(members, path+".mesh")
		if len(members) < 2 {
			sb.c.add(path+".mesh", fmt.Sprintf("a mesh needs at least 2 nodes, got %d", len(members)))
			return
		}
		if !ok {
			return
		}
		for i := range members {
			for j := i + 1; j < len(members); j++ {
				pairs = append(pairs, pair{members[i], members[j], path + ".mesh"})
			}
		}
	case rp.RouteReflector != nil:
		kind, reflector = SessionRouteReflector, *rp.RouteReflector
		ok := sb.checkReflector(reflector, path+".route-reflector")
		if rp.Clients == nil || len(*rp.Clients) == 0 {
			if !sb.c.failedUnder(path + ".clients") {
				sb.c.add(path+".clients", "a route reflector needs at least one client")
			}
			return
		}
		clients := *rp.Clients
		members = append([]string{reflector}, clients...)
		if !sb.checkMembers(clients, path+".clients") || !ok {
			return
		}
		for j, cl := range clients {
			if cl == reflector {
				sb.c.add(joinIndex(path+".clients", j), fmt.Sprintf("%s cannot be a client of itself", cl))
				return
			}
			pairs = append(pairs, pair{reflector, cl, joinIndex(path+".clients", j)})
		}
	default:
		kind, members = SessionBetween, *rp.Between
		ok := sb.checkMembers(members, path+".between")
		if len(members) != 2 {
			sb.c.add(path+".between", fmt.Sprintf("between needs exactly 2 nodes, got %d", len(members)))
			return
		}
		if !ok {
			return
		}
		pairs = append(pairs, pair{members[0], members[1], path + ".between"})
	}
	opts := sb.options(rp, path, members)
	line := sb.c.index.line(path)
	for _, p := range pairs {
		k := keyOf(p.a, p.b)
		if first, dup := sb.pairs[k]; dup {
			sb.c.add(p.path, fmt.Sprintf("%s and %s already have a session (declared at %s, line %d)", p.a, p.b, first, sb.c.index.line(first)))
			continue
		}
		sb.pairs[k] = p.path
		s := opts.forPair(p.a, p.b)
		s.Kind, s.Reflector, s.Line = kind, reflector, line
		sb.checkInjectorSession(s, path)
		sb.sessions = append(sb.sessions, s)
	}
}

// checkMembers checks that every name is a node and none is listed twice.
func (b *builder) checkMembers(names []string, path string) bool {
	ok := true
	for j, name := range names {
		p := joinIndex(path, j)
		if b.nodes[name] == nil {
			b.c.add(p, fmt.Sprintf("unknown node %q", name))
			ok = false
		}
		if k := slices.Index(names, name); k < j {
			b.c.add(p, fmt.Sprintf("node %q is listed twice (also at %s)", name, joinIndex(path, k)))
			ok = false
		}
	}
	return ok
}

// checkReflector checks the reflector of a route-reflector peering.
func (sb *sessionBuilder) checkReflector(name, path string) bool {
	n := sb.nodes[name]
	switch {
	case n == nil:
		sb.c.add(path, fmt.Sprintf("unknown node %q", name))
	case n.Role != RoleRouteReflector:
		sb.c.add(path, fmt.Sprintf("node %s is not a route reflector: set `role: route-reflector` on it", name))
	default:
		return true
	}
	return false
}

// sessionOptions are the per-session keys of one peering statement,
// validated once and then applied to each of its sessions.
type sessionOptions struct {
	b                     *builder
	password, passive     string
	multihop, ttlSecurity uint8
	timers                *Timers
	peerASN               map[string]uint32
	families              []string
}

func (sb *sessionBuilder) options(rp *rawPeering, path string, members []string) *sessionOptions {
	o := &sessionOptions{b: sb.builder}
	if rp.Password != nil {
		o.password = *rp.Password
	}
	if rp.Passive != nil {
		if slices.Contains(members, *rp.Passive) {
			o.passive = *rp.Passive
		} else {
			sb.c.add(path+".passive", fmt.Sprintf("passive names %q, which is not in this peering", *rp.Passive))
		}
	}
	o.multihop = sb.ttl(rp.Multihop, path+".multihop")
	o.ttlSecurity = sb.ttl(rp.TTLSecurity, path+".ttl-security")
	if rp.Timers != nil {
		t := sb.timers
		t.apply(sb.parseTimers(rp.Timers, path+".timers"))
		sb.checkTimers(t)
		o.timers = &t.Timers
	}
	if rp.PeerASN != nil {
		o.peerASN = map[string]uint32{}
		names := slices.Sorted(maps.Keys(rp.PeerASN))
		for _, name := range names {
			n, p := rp.PeerASN[name], joinKey(path+".peer-asn", name)
			if !slices.Contains(members, name) {
				sb.c.add(p, fmt.Sprintf("peer-asn names %q, which is not in this peering", name))
				continue
			}
			o.peerASN[name] = sb.checkASN(n, p)
		}
	}
	if rp.Families != nil {
		if len(*rp.Families) == 0 {
			sb.c.add(path+".families", "families must not be empty (leave it out for the default)")
		}
		for j, f := range *rp.Families {
			p := joinIndex(path+".families", j)
			switch {
			case f != FamilyIPv4Unicast && f != FamilyIPv6Unicast:
				sb.c.add(p, fmt.Sprintf("unknown family %q (known: ipv4-unicast, ipv6-unicast)", f))
			case slices.Index(*rp.Families, f) < j:
				sb.c.add(p, fmt.Sprintf("family %s is listed twice", f))
			default:
				o.families = append(o.families, f)
			}
		}
	}
	return o
}

// ttl validates a multihop or ttl-security value (0..255, 0 = off).
func (sb *sessionBuilder) ttl(n rawNumber, path string) uint8 {
	if !n.Set {
		return 0
	}
	if !n.in(0, 255) {
		sb.c.add(path, fmt.Sprintf("%s is out of range 0..255", n.Text))
		return 0
	}
	return uint8(n.Value)
}

// forPair makes the session between a and b with these options.
func (o *sessionOptions) forPair(a, b string) *Session {
	s := &Session{A: a, B: b, Password: o.password, Multihop: o.multihop, TTLSecurity: o.ttlSecurity}
	if o.passive == a || o.passive == b {
		s.Passive = o.passive
	}
	if o.timers != nil {
		t := *o.timers
		s.Timers = &t
	}
	for name, asn := range o.peerASN {
		if s.Has(name) {
			if s.PeerASN == nil {
				s.PeerASN = map[string]uint32{}
			}
			s.PeerASN[name] = asn
		}
	}
	if o.families != nil {
		s.Families = slices.Clone(o.families)
	} else {
		s.Families = []string{FamilyIPv4Unicast}
		if o.b.announcesIPv6(a) || o.b.announcesIPv6(b) {
			s.Families = append(s.Families, FamilyIPv6Unicast)
		}
	}
	return s
}

// announcesIPv6 reports whether node name announces an IPv6 prefix.
func (b *builder) announcesIPv6(name string) bool {
	n := b.nodes[name]
	if n == nil {
		return false
	}
	for _, p := range n.Prefixes {
		if p.Prefix.Addr().Is6() {
			return true
		}
	}
	return false
}
