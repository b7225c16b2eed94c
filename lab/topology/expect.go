package topology

import (
	"fmt"
	"strings"
)

// buildExpectations converts the expect list, checking that every node and
// session it names exists.
func (b *builder) buildExpectations(raw []rawExpect, sessions []*Session) []*Expectation {
	have := map[pairKey]bool{}
	for _, s := range sessions {
		have[keyOf(s.A, s.B)] = true
	}
	var out []*Expectation
	for i := range raw {
		path := joinIndex("expect", i)
		if e := b.expectation(&raw[i], path, have, len(sessions)); e != nil {
			out = append(out, e)
		}
	}
	return out
}

func (b *builder) expectation(re *rawExpect, path string, have map[pairKey]bool, nSessions int) *Expectation {
	var kinds []string
	if re.Established != nil {
		kinds = append(kinds, string(ExpectEstablished))
	}
	if re.NotEstablished != nil {
		kinds = append(kinds, string(ExpectNotEstablished))
	}
	if re.Route != nil {
		kinds = append(kinds, string(ExpectRoute))
	}
	if re.NoRoute != nil {
		kinds = append(kinds, string(ExpectNoRoute))
	}
	switch len(kinds) {
	case 0:
		if !b.c.failedUnder(path) {
			b.c.add(path, "expectation needs one of established, not-established, route, no-route")
		}
		return nil
	case 1:
	default:
		b.c.add(path, fmt.Sprintf("one expectation checks one thing; got %s (split it into several items)", strings.Join(kinds, " and ")))
		return nil
	}
	e := &Expectation{Kind: ExpectKind(kinds[0]), Within: DefaultWithin, Line: b.c.index.line(path)}
	if w, ok := b.parseDuration(re.Within, path+".within"); ok {
		if w == 0 {
			b.c.add(path+".within", "within must be longer than 0s")
		}
		e.Within = w
	}
	switch e.Kind {
	case ExpectEstablished, ExpectNotEstablished:
		set, key := re.Established, "established"
		if e.Kind == ExpectNotEstablished {
			set, key = re.NotEstablished, "not-established"
		}
		if re.At != nil {
			b.c.add(path+".at", "at is only valid with route or no-route")
		}
		b.sessionExpectation(e, set, path+"."+key, have, nSessions)
	default:
		prefix, key := re.Route, "route"
		if e.Kind == ExpectNoRoute {
			prefix, key = re.NoRoute, "no-route"
		}
		e.Route = b.parsePrefix(*prefix, path+"."+key)
		switch {
		case re.At == nil && b.c.failedUnder(path+".at"):
		case re.At == nil:
			b.c.add(path+".at", fmt.Sprintf("at is required: name the node whose routes %s checks", key))
		case b.nodes[*re.At] == nil:
			b.c.add(path+".at", fmt.Sprintf("unknown node %q", *re.At))
		case b.nodes[*re.At].Kind == KindInjector:
			b.c.add(path+".at", fmt.Sprintf("node %s is an injector, which keeps no routes: check %s at one of its peers", *re.At, key))
		default:
			e.At = *re.At
		}
	}
	return e
}

// sessionExpectation fills in the nodes of an (not-)established check.
func (b *builder) sessionExpectation(e *Expectation, set *rawNodeSet, path string, have map[pairKey]bool, nSessions int) {
	if !set.IsList {
		switch {
		case e.Kind == ExpectEstablished && set.Word == "all":
			if nSessions == 0 {
				b.c.add(path, "established: all needs at least one session (add peerings)")
			}
			e.All = true
		case e.Kind == ExpectEstablished:
			b.c.add(path, fmt.Sprintf("expected `all` or a list of two node names, got %q", set.Word))
		default:
			b.c.add(path, fmt.Sprintf("expected a list of two node names, got %q", set.Word))
		}
		return
	}
	if len(set.Names) != 2 {
		b.c.add(path, fmt.Sprintf("expected the two nodes of one session, got %d names", len(set.Names)))
		return
	}
	ok := true
	for j, name := range set.Names {
		if b.nodes[name] == nil {
			b.c.add(joinIndex(path, j), fmt.Sprintf("unknown node %q", name))
			ok = false
		}
	}
	if !ok {
		return
	}
	a, z := set.Names[0], set.Names[1]
	if !have[keyOf(a, z)] {
		b.c.add(path, fmt.Sprintf("there is no session between %s and %s", a, z))
		return
	}
	e.Nodes = []string{a, z}
}
