package topology

import (
	"fmt"
	"strings"
)

// expectKey is one key an expectation may hold besides its kind key, and
// the kinds it is valid with.
type expectKey struct {
	name  string
	set   func(*rawExpect) bool
	kinds []ExpectKind
}

// expectKeys lists the settings that belong to some kinds only.
func expectKeys() []expectKey {
	return []expectKey{
		{"at", func(r *rawExpect) bool { return r.At != nil }, []ExpectKind{ExpectRoute, ExpectNoRoute, ExpectState}},
		{"ready", func(r *rawExpect) bool { return r.Ready != nil }, []ExpectKind{ExpectReadiness}},
		{"message", func(r *rawExpect) bool { return r.Message != nil }, []ExpectKind{ExpectReadiness}},
		{"is", func(r *rawExpect) bool { return r.Is != nil }, []ExpectKind{ExpectState}},
		{"error", func(r *rawExpect) bool { return r.Error != nil }, []ExpectKind{ExpectState}},
		{"cause", func(r *rawExpect) bool { return r.Cause != nil }, []ExpectKind{ExpectDiagnosis}},
		{"node", func(r *rawExpect) bool { return r.Node != nil }, []ExpectKind{ExpectDiagnosis}},
		{"peer", func(r *rawExpect) bool { return r.Peer != nil }, []ExpectKind{ExpectDiagnosis}},
		{"confidence", func(r *rawExpect) bool { return r.Confidence != nil }, []ExpectKind{ExpectDiagnosis}},
	}
}

// expectKinds lists the kind keys an expectation item holds, in
// documentation order.
func expectKinds(re *rawExpect) []string {
	var kinds []string
	for _, k := range []struct {
		kind ExpectKind
		set  bool
	}{
		{ExpectEstablished, re.Established != nil},
		{ExpectNotEstablished, re.NotEstablished != nil},
		{ExpectRoute, re.Route != nil},
		{ExpectNoRoute, re.NoRoute != nil},
		{ExpectReadiness, re.Readiness != nil},
		{ExpectState, re.State != nil},
		{ExpectDiagnosis, re.Diagnosis != nil},
	} {
		if k.set {
			kinds = append(kinds, string(k.kind))
		}
	}
	return kinds
}

// buildExpectations converts the expect list, checking that every node,
// session and fault it names exists. Faults must be built first.
func (b *builder) buildExpectations(raw []rawExpect, sessions []*Session, faults []*Fault, rawFaults []rawFault) []*Expectation {
	have := map[pairKey]bool{}
	for _, s := range sessions {
		have[keyOf(s.A, s.B)] = true
	}
	anchors := newAnchorSet(faults, rawFaults)
	var out []*Expectation
	for i := range raw {
		path := joinIndex("expect", i)
		if e := b.expectation(&raw[i], path, have, len(sessions), anchors); e != nil {
			out = append(out, e)
		}
	}
	return out
}

func (b *builder) expectation(re *rawExpect, path string, have map[pairKey]bool, nSessions int, anchors *anchorSet) *Expectation {
	kinds := expectKinds(re)
	switch len(kinds) {
	case 0:
		if !b.c.failedUnder(path) {
			b.c.add(path, "expectation needs one of established, not-established, route, no-route, readiness, state, diagnosis")
		}
		return nil
	case 1:
	default:
		b.c.add(path, fmt.Sprintf("one expectation checks one thing; got %s (split it into several items)", strings.Join(kinds, " and ")))
		return nil
	}
	e := &Expectation{Kind: ExpectKind(kinds[0]), Within: DefaultWithin, Line: b.c.index.line(path)}
	for _, k := range expectKeys() {
		if k.set(re) && !kindIn(e.Kind, k.kinds) {
			b.c.add(path+"."+k.name, fmt.Sprintf("%s is only valid with %s", k.name, kindList(k.kinds)))
		}
	}
	b.window(e, re, path, anchors)
	switch e.Kind {
	case ExpectEstablished, ExpectNotEstablished:
		set, key := re.Established, "established"
		if e.Kind == ExpectNotEstablished {
			set, key = re.NotEstablished, "not-established"
		}
		b.sessionExpectation(e, set, path+"."+key, have, nSessions)
	case ExpectRoute, ExpectNoRoute:
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
	case ExpectReadiness:
		b.readinessExpectation(e, re, path)
	case ExpectState:
		b.stateExpectation(e, re, path, have)
	case ExpectDiagnosis:
		b.diagnosisExpectation(e, re, path)
	}
	return e
}

// kindIn reports whether k is one of kinds.
func kindIn(k ExpectKind, kinds []ExpectKind) bool {
	for _, x := range kinds {
		if x == k {
			return true
		}
	}
	return false
}

// kindList renders kinds as "route, no-route or state".
func kindList(kinds []ExpectKind) string {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = string(k)
	}
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
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
	e.Nodes = b.sessionPair(set, path, have)
}

// sessionPair checks that set names the two ends of one session and
// returns them, or nil.
func (b *builder) sessionPair(set *rawNodeSet, path string, have map[pairKey]bool) []string {
	if len(set.Names) != 2 {
		b.c.add(path, fmt.Sprintf("expected the two nodes of one session, got %d names", len(set.Names)))
		return nil
	}
	ok := true
	for j, name := range set.Names {
		if b.nodes[name] == nil {
			b.c.add(joinIndex(path, j), fmt.Sprintf("unknown node %q", name))
			ok = false
		}
	}
	if !ok {
		return nil
	}
	a, z := set.Names[0], set.Names[1]
	if !have[keyOf(a, z)] {
		b.c.add(path, fmt.Sprintf("there is no session between %s and %s", a, z))
		return nil
	}
	return []string{a, z}
}
