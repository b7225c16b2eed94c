package topology

import (
	"fmt"
	"strings"
	"time"

	"github.com/peerlab/peerlab/internal/lazy"
)

// faultRule is what the loader knows about one fault of the catalogue.
type faultRule struct {
	// params are the keys `params:` may hold, in documentation order.
	params []string
	// session is set for faults that act on the node's BGP sessions: the
	// node must have at least one.
	session bool
	// perNode is set for faults whose kernel state is named after the
	// fault alone (nftables chains `<fault>-<hook>`), so that one node can
	// hold only one instance at a time whatever the peer.
	perNode bool
	// role, when set, is the cluster role the node must have.
	role Role
}

// faultRules returns the rule of every fault in FaultNames(). It builds a
// new map on each call: the loader keeps no package state.
func faultRules() map[string]faultRule {
	return map[string]faultRule{
		"tcp179-drop":         {perNode: true},
		"tcp179-reject":       {perNode: true},
		"icmp-unreachable":    {perNode: true},
		"link-down":           {},
		"netem":               {params: []string{paramDelay, paramJitter, paramLoss}},
		"as-mismatch":         {params: []string{paramASN}, session: true},
		"router-id-conflict":  {params: []string{paramRouterID}, session: true},
		"md5-mismatch":        {params: []string{paramPassword}, session: true},
		"md5-one-sided":       {params: []string{paramPassword}, session: true},
		"hold-timer-expiry":   {session: true},
		"bird-down":           {},
		"bird-unconfigured":   {},
		"port179-in-use":      {},
		"source-ip-missing":   {params: []string{paramAddress}},
		"wrong-ip-autodetect": {params: []string{paramAddress}},
		"snat-node-traffic":   {params: []string{paramAddress}, perNode: true},
		// Cluster faults act on a node's role (docs/kubespray.md).
		"apiserver-proxy-down":         {role: RoleKubesprayWorker},
		"apiserver-proxy-bad-upstream": {params: []string{paramAddress}, role: RoleKubesprayWorker},
		"apiserver-down":               {role: RoleAPIServer},
	}
}

// faultBuilder converts the fault schedule.
type faultBuilder struct {
	*builder
	rules map[string]faultRule
	// sessions maps a node pair to its session.
	sessions map[pairKey]*Session
	// nSessions counts the sessions of each node.
	nSessions map[string]int
	// windows holds, per overlap group, the windows of the faults so far.
	windows map[faultGroup]*windowIndex
}

// buildFaults converts the faults list, in file order. Sessions must be
// built first: a peer must share a session with the node.
func (b *builder) buildFaults(raw []rawFault, sessions []*Session) []*Fault {
	fb := &faultBuilder{builder: b, rules: faultRules(), sessions: map[pairKey]*Session{}, nSessions: map[string]int{}}
	for _, s := range sessions {
		fb.sessions[keyOf(s.A, s.B)] = s
		fb.nSessions[s.A]++
		fb.nSessions[s.B]++
	}
	fb.windows = fb.faultWindows(raw)
	var out []*Fault
	var paths []string
	labels := map[string]int{}
	for i := range raw {
		path := joinIndex("faults", i)
		fb.faultLabel(raw[i].Name, path+".name", labels)
		f := fb.fault(&raw[i], path)
		if f == nil {
			continue
		}
		fb.checkOverlap(f, path, out, paths)
		out = append(out, f)
		paths = append(paths, path)
	}
	return out
}

// fault converts one item; it returns nil when the item is unusable.
func (fb *faultBuilder) fault(rf *rawFault, path string) *Fault {
	f := &Fault{Line: fb.c.index.line(path)}
	// A missing key is not worth reporting when the item failed to decode
	// (not a mapping, a misspelt key): that error says it already.
	quiet := fb.c.failedUnder(path)
	ok := true
	at, atOK := fb.parseDuration(rf.At, path+".at")
	switch {
	case atOK:
		f.At = at
	case !rf.At.Set && !quiet:
		fb.c.add(path+".at", "at is required: when to inject the fault, measured from the moment the lab is up (e.g. 5s)")
		ok = false
	default:
		ok = false
	}
	if heal, healOK := fb.parseDuration(rf.HealAt, path+".heal-at"); healOK {
		if atOK && heal <= at {
			fb.c.add(path+".heal-at", fmt.Sprintf("%s is not after at (%s)", rf.HealAt.Text, rf.At.Text))
			ok = false
		}
		f.HealAt = heal
	} else if rf.HealAt.Set {
		ok = false
	}
	rule, known := fb.faultName(rf.Fault, path+".fault", quiet)
	if !known {
		ok = false
	}
	f.Name = deref(rf.Fault)
	if rf.Name != nil && faultLabelRE().MatchString(*rf.Name) {
		f.Label = *rf.Name
	}
	f.Node = fb.faultNode(rf.Node, path+".node", quiet)
	if f.Node == "" {
		ok = false
	}
	if rf.Peer != nil {
		f.Peer = fb.faultPeer(*rf.Peer, f.Node, path+".peer")
		if f.Peer == "" {
			ok = false
		}
	}
	if known && f.Node != "" && rule.session && rf.Peer == nil && fb.nSessions[f.Node] == 0 {
		fb.c.add(path+".node", fmt.Sprintf("%s has no BGP session for %s to act on (add a peering)", f.Node, f.Name))
		ok = false
	}
	if known && f.Node != "" && rule.role != "" && !fb.nodes[f.Node].HasRole(rule.role) {
		fb.c.add(path+".node", fmt.Sprintf("%s needs a node with role %s; %s has roles %s", f.Name, rule.role, f.Node, roleList(fb.nodes[f.Node].Roles)))
		ok = false
	}
	if !known {
		// Without a known fault the params cannot be checked.
		return nil
	}
	params, paramsOK := fb.faultParams(rf.Params, rule, f, path, ok)
	if !paramsOK || !ok {
		return nil
	}
	f.Params = params
	return f
}

// faultLabelRE is what a fault's `name:` looks like: expectations write
// it in after:, alone or followed by ".heal".
var faultLabelRE = lazy.Regexp(`^[a-z][a-z0-9-]{0,31}$`)

// faultLabel checks a fault's `name:` and that no other fault has it
// (labels maps each label to the line of its first use).
func (fb *faultBuilder) faultLabel(name *string, path string, labels map[string]int) {
	if name == nil {
		return
	}
	switch line, dup := labels[*name]; {
	case !faultLabelRE().MatchString(*name):
		fb.c.add(path, fmt.Sprintf("fault name %q is invalid: use 1 to 32 lower-case letters, digits and '-', starting with a letter", *name))
	case dup:
		fb.c.add(path, fmt.Sprintf("another fault is already named %q (line %d)", *name, line))
	default:
		labels[*name] = fb.c.index.line(path)
	}
}

// faultName checks the fault's name against the catalogue; quiet leaves a
// missing name unreported.
func (fb *faultBuilder) faultName(name *string, path string, quiet bool) (faultRule, bool) {
	if name == nil {
		if !quiet {
			fb.c.add(path, "fault is required: one of "+strings.Join(FaultNames(), ", "))
		}
		return faultRule{}, false
	}
	rule, ok := fb.rules[*name]
	if !ok {
		fb.c.add(path, fmt.Sprintf("%q is not a fault (known: %s)", *name, strings.Join(FaultNames(), ", ")))
	}
	return rule, ok
}

// faultNode checks the node a fault is injected on; "" when it is unusable.
// quiet leaves a missing node unreported.
func (fb *faultBuilder) faultNode(name *string, path string, quiet bool) string {
	switch {
	case name == nil:
		if !quiet {
			fb.c.add(path, "node is required: the node the fault is injected on")
		}
	case fb.nodes[*name] == nil:
		fb.c.add(path, fmt.Sprintf("unknown node %q", *name))
	default:
		return *name
	}
	return ""
}

// faultPeer checks a fault's peer: another node sharing a session with node
// (node is "" when it was invalid, and then only existence is checked).
func (fb *faultBuilder) faultPeer(peer, node, path string) string {
	switch {
	case fb.nodes[peer] == nil:
		fb.c.add(path, fmt.Sprintf("unknown node %q", peer))
	case node == "":
		return ""
	case peer == node:
		fb.c.add(path, fmt.Sprintf("the peer must be another node than %s", node))
	case fb.sessions[keyOf(node, peer)] == nil:
		fb.c.add(path, fmt.Sprintf("%s has no session with %s", peer, node))
	default:
		return peer
	}
	return ""
}

// checkOverlap reports f when an earlier fault of the same kind on the same
// node (and peer, unless the fault's state is per node) is still active at
// f.At or starts before f heals: the harness cannot inject it twice. prev
// holds the faults so far; f becomes the next.
func (fb *faultBuilder) checkOverlap(f *Fault, path string, prev []*Fault, paths []string) {
	w := fb.windows[fb.groupOf(f.Name, f.Node, f.Peer)]
	if w == nil || !w.holds(f.At) || !w.holds(end(f)) {
		fb.c.add(path, "internal error (please report): fault window not indexed")
		return
	}
	i := w.first(f.At, end(f))
	w.add(len(prev), f.At, end(f))
	if i < 0 {
		return
	}
	p := prev[i]
	fb.c.add(path, fmt.Sprintf("%s on %s overlaps %s (line %d, %s); a node holds one %s at a time%s",
		f.Name, f.Node, paths[i], p.Line, window(p), f.Name, peerNote(fb.rules[f.Name], p, f)))
}

// faultGroup is what two faults share when they may not overlap: the
// fault, the node, and the peer unless the fault's state is per node.
type faultGroup struct{ name, node, peer string }

func (fb *faultBuilder) groupOf(name, node, peer string) faultGroup {
	if fb.rules[name].perNode {
		peer = ""
	}
	return faultGroup{name, node, peer}
}

// faultWindows makes the window index of every overlap group, over every
// time its faults can have (a fault that checkOverlap sees has the fault,
// node, peer and times written in raw).
func (fb *faultBuilder) faultWindows(raw []rawFault) map[faultGroup]*windowIndex {
	times := map[faultGroup][]time.Duration{}
	for i := range raw {
		rf := &raw[i]
		g := fb.groupOf(deref(rf.Fault), deref(rf.Node), deref(rf.Peer))
		t := append(times[g], forever)
		for _, d := range []rawDuration{rf.At, rf.HealAt} {
			if v, err := time.ParseDuration(d.Text); d.Set && err == nil {
				t = append(t, v)
			}
		}
		times[g] = t
	}
	out := make(map[faultGroup]*windowIndex, len(times))
	for g, t := range times {
		out[g] = newWindowIndex(t)
	}
	return out
}

// forever is the end of a fault that is never healed.
const forever = time.Duration(1<<63 - 1)

// end returns when f heals, or the longest duration for a fault that stays.
func end(f *Fault) time.Duration {
	if f.HealAt == 0 {
		return forever
	}
	return f.HealAt
}

// window renders when f is active, for overlap messages.
func window(f *Fault) string {
	if f.HealAt == 0 {
		return fmt.Sprintf("from %s, never healed", f.At)
	}
	return fmt.Sprintf("from %s to %s", f.At, f.HealAt)
}

// peerNote explains, for per-node faults with different peers, why the peer
// does not make the two faults distinct.
func peerNote(r faultRule, a, b *Fault) string {
	if r.perNode && a.Peer != b.Peer {
		return ", whatever the peer"
	}
	return ""
}

// deref returns *s, or "" for nil.
func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
