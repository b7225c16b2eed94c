package topology

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// anchorSet knows the fault labels expectations' `after:` may name.
type anchorSet struct {
	// built maps a label to its fault, for faults that were valid.
	built map[string]*Fault
	// written holds every label written, valid fault or not, so that an
	// expectation naming a broken fault adds no second error.
	written map[string]bool
}

func newAnchorSet(faults []*Fault, raw []rawFault) *anchorSet {
	a := &anchorSet{built: map[string]*Fault{}, written: map[string]bool{}}
	for _, f := range faults {
		if f.Label != "" {
			a.built[f.Label] = f
		}
	}
	for _, rf := range raw {
		if rf.Name != nil {
			a.written[*rf.Name] = true
		}
	}
	return a
}

// labels lists the valid labels, sorted.
func (a *anchorSet) labels() []string {
	var out []string
	for l := range a.built {
		out = append(out, l)
	}
	slices.Sort(out)
	return out
}

// window reads within, after and for.
func (b *builder) window(e *Expectation, re *rawExpect, path string, anchors *anchorSet) {
	if w, ok := b.parseDuration(re.Within, path+".within"); ok {
		if w == 0 {
			b.c.add(path+".within", "within must be longer than 0s")
		}
		e.Within = w
	}
	if re.After.Set {
		e.After = b.anchor(re.After.Text, path+".after", anchors)
	}
	if !re.For.Set {
		return
	}
	switch {
	case e.Kind.Negative():
		b.c.add(path+".for", fmt.Sprintf("for is not valid with %s: a negative expectation already holds for its whole window (lengthen within instead)", e.Kind))
	case e.Kind == ExpectDiagnosis:
		b.c.add(path+".for", "for is not valid with diagnosis: a diagnosis is one look at one moment")
	default:
		if d, ok := b.parseDuration(re.For, path+".for"); ok {
			if d == 0 {
				b.c.add(path+".for", "for must be longer than 0s (leave it out to accept one sighting)")
			}
			e.For = d
		}
	}
}

// anchor parses an `after:` value: a duration, a fault's name or NAME.heal.
func (b *builder) anchor(text, path string, anchors *anchorSet) Anchor {
	if d, err := time.ParseDuration(text); err == nil {
		if d < 0 {
			b.c.add(path, fmt.Sprintf("%s is negative", text))
			return Anchor{}
		}
		return Anchor{Delay: d}
	}
	if text != "" && (text[0] >= '0' && text[0] <= '9' || text[0] == '-') {
		b.c.add(path, fmt.Sprintf("%q is not a duration: write a number with a unit, e.g. \"5s\", or name a fault", text))
		return Anchor{}
	}
	name, heal := strings.CutSuffix(text, ".heal")
	f, ok := anchors.built[name]
	switch {
	case ok && heal && f.HealAt == 0:
		b.c.add(path, fmt.Sprintf("fault %s (line %d) is never healed: give it heal-at, or count from its injection with after: %s", name, f.Line, name))
	case ok:
		return Anchor{Fault: name, Heal: heal}
	case anchors.written[name]:
		// The fault itself is invalid and already reported.
	case len(anchors.built) == 0:
		b.c.add(path, fmt.Sprintf("%q is neither a duration nor the name of a fault (no fault has a name: give one `name: %s`)", text, name))
	default:
		b.c.add(path, fmt.Sprintf("%q is neither a duration nor the name of a fault (named faults: %s)", text, strings.Join(anchors.labels(), ", ")))
	}
	return Anchor{}
}

// readinessExpectation fills in a readiness check.
func (b *builder) readinessExpectation(e *Expectation, re *rawExpect, path string) {
	e.Node = b.roleNode(*re.Readiness, path+".readiness", RoleCalicoNode, "readiness is calico-node's BIRD readiness")
	switch {
	case re.Ready != nil:
		e.Ready = *re.Ready
	case !b.c.failedUnder(path + ".ready"):
		b.c.add(path+".ready", "ready is required: true or false, the verdict calico-node's readiness check must give")
	}
	if re.Message != nil {
		if re.Ready != nil && *re.Ready {
			b.c.add(path+".message", "message is only valid with ready: false (a ready node has no message)")
		}
		e.Message = *re.Message
	}
}

// roleNode checks that name is a node with role r; "" when it is not.
func (b *builder) roleNode(name, path string, r Role, why string) string {
	n := b.nodes[name]
	switch {
	case n == nil:
		b.c.add(path, fmt.Sprintf("unknown node %q", name))
	case !n.HasRole(r):
		b.c.add(path, fmt.Sprintf("%s: node %s needs role %s; it has roles %s", why, name, r, roleList(n.Roles)))
	default:
		return name
	}
	return ""
}

// stateExpectation fills in a state check.
func (b *builder) stateExpectation(e *Expectation, re *rawExpect, path string, have map[pairKey]bool) {
	if !re.State.IsList {
		b.c.add(path+".state", fmt.Sprintf("expected a list of two node names, got %q", re.State.Word))
	} else {
		e.Nodes = b.sessionPair(re.State, path+".state", have)
	}
	switch {
	case re.At == nil && b.c.failedUnder(path+".at"):
	case re.At == nil:
		b.c.add(path+".at", "at is required: name the end of the session whose state is checked")
	case e.Nodes != nil && !slices.Contains(e.Nodes, *re.At):
		b.c.add(path+".at", fmt.Sprintf("%q is not an end of the session %s <-> %s", *re.At, e.Nodes[0], e.Nodes[1]))
	default:
		e.At = *re.At
	}
	if e.At != "" && b.nodes[e.At] != nil && b.nodes[e.At].Kind == KindInjector {
		b.c.add(path+".at", fmt.Sprintf("node %s is an injector: check the state at its peer", e.At))
	}
	switch {
	case re.Is == nil && b.c.failedUnder(path+".is"):
	case re.Is == nil:
		b.c.add(path+".is", "is is required: one BGP state or a list ("+strings.Join(BGPStates(), ", ")+")")
	case len(re.Is.Words) == 0:
		b.c.add(path+".is", "is needs at least one state")
	default:
		for j, w := range re.Is.Words {
			s, ok := canonicalState(w)
			if !ok {
				b.c.add(joinIndex(path+".is", j), fmt.Sprintf("%q is not a BGP state (known: %s)", w, strings.Join(BGPStates(), ", ")))
				continue
			}
			e.States = append(e.States, s)
		}
	}
	if re.Error != nil {
		e.Error = *re.Error
	}
}

// canonicalState returns the BGPStates spelling of s, in any case.
func canonicalState(s string) (string, bool) {
	for _, st := range BGPStates() {
		if strings.EqualFold(st, s) {
			return st, true
		}
	}
	return "", false
}

// diagnosisExpectation fills in a diagnosis check.
func (b *builder) diagnosisExpectation(e *Expectation, re *rawExpect, path string) {
	name := *re.Diagnosis
	switch n := b.nodes[name]; {
	case n == nil:
		b.c.add(path+".diagnosis", fmt.Sprintf("unknown node %q", name))
	case n.Kind != KindBIRD && n.Kind != KindBIRD2:
		b.c.add(path+".diagnosis", fmt.Sprintf("node %s is a %s node: the live diagnosis reads a BIRD node (kind bird or bird2)", name, n.Kind))
	default:
		e.Node = name
	}
	switch {
	case re.Cause == nil && b.c.failedUnder(path+".cause"):
	case re.Cause == nil:
		b.c.add(path+".cause", "cause is required: the cause the diagnosis must rank first (docs/diagnosis.md)")
	case !slices.Contains(DiagnosisCauses(), *re.Cause):
		b.c.add(path+".cause", fmt.Sprintf("%q is not a diagnosis cause (known: %s)", *re.Cause, strings.Join(DiagnosisCauses(), ", ")))
	default:
		e.Cause = *re.Cause
	}
	for _, ref := range []struct {
		key string
		val *string
		dst *string
	}{{"node", re.Node, &e.CauseNode}, {"peer", re.Peer, &e.CausePeer}} {
		if ref.val == nil {
			continue
		}
		if b.nodes[*ref.val] == nil {
			b.c.add(path+"."+ref.key, fmt.Sprintf("unknown node %q", *ref.val))
			continue
		}
		*ref.dst = *ref.val
	}
	if re.Confidence != nil {
		if !slices.Contains(Confidences(), *re.Confidence) {
			b.c.add(path+".confidence", fmt.Sprintf("%q is not a confidence (known: %s; the top finding must be at least that sure)", *re.Confidence, strings.Join(Confidences(), ", ")))
		} else {
			e.Confidence = *re.Confidence
		}
	}
}
