package lab

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/peerlab/peerlab/lab/topology"
)

// sighting is one look at an expectation's condition.
type sighting struct {
	// seen tells whether the condition (Established at both ends, route
	// present, readiness as wanted, state as wanted, cause named) holds.
	seen bool
	// detail says what was observed, for the report.
	detail string
	// findings are a diagnosis's findings.
	findings []DiagnosisFinding
}

// observe looks at the expectation's condition now.
func (l *Lab) observe(ctx context.Context, e *topology.Expectation, d Diagnoser) sighting {
	switch e.Kind {
	case topology.ExpectEstablished, topology.ExpectNotEstablished:
		views, _ := l.views(ctx)
		pairs := [][2]string{}
		if e.All {
			for _, s := range l.topo.Sessions {
				pairs = append(pairs, [2]string{s.A, s.B})
			}
		} else {
			pairs = append(pairs, [2]string{e.Nodes[0], e.Nodes[1]})
		}
		seen, detail := pairsEstablished(pairs, views, e.Kind == topology.ExpectEstablished)
		return sighting{seen: seen, detail: detail}
	case topology.ExpectReadiness:
		return l.observeReadiness(ctx, e)
	case topology.ExpectState:
		views, _ := l.views(ctx)
		return observeState(e, views)
	case topology.ExpectDiagnosis:
		return l.observeDiagnosis(ctx, e, d)
	default:
		node := l.nodes[e.At]
		has, err := node.HasRoute(ctx, e.Route)
		if err != nil {
			return sighting{detail: err.Error()}
		}
		if has {
			return sighting{seen: true, detail: fmt.Sprintf("%s holds %s", e.At, e.Route)}
		}
		return sighting{detail: fmt.Sprintf("%s does not hold %s", e.At, e.Route)}
	}
}

// observeReadiness runs calico-node's BIRD readiness rule on e.Node.
func (l *Lab) observeReadiness(ctx context.Context, e *topology.Expectation) sighting {
	if l.roles == nil || l.roles.calico[e.Node] == nil {
		return sighting{detail: fmt.Sprintf("%s runs no calico-node", e.Node)}
	}
	msg := l.roles.calico[e.Node].readiness(ctx)
	ready := msg == ""
	o := sighting{seen: ready == e.Ready && strings.Contains(msg, e.Message)}
	if ready {
		o.detail = e.Node + ": calico/node is ready"
	} else {
		o.detail = e.Node + ": " + msg
	}
	return o
}

// observeState checks what e.At's end of the session shows.
func observeState(e *topology.Expectation, views map[sessionKey]SessionStatus) sighting {
	remote := e.Nodes[0]
	if remote == e.At {
		remote = e.Nodes[1]
	}
	s := views[sessionKey{e.At, remote}]
	why := s.LastError
	if s.Notification != nil {
		why = strings.TrimSpace(why + " NOTIFICATION " + s.Notification.String())
	}
	seen := slices.ContainsFunc(e.States, func(st string) bool { return strings.EqualFold(st, s.State) }) &&
		strings.Contains(why, e.Error)
	return sighting{seen: seen, detail: endView(e.At, remote, s)}
}

// observeDiagnosis runs the live diagnosis from e.Node and checks its top
// finding.
func (l *Lab) observeDiagnosis(ctx context.Context, e *topology.Expectation, d Diagnoser) sighting {
	if d == nil {
		return sighting{detail: "no diagnoser: this run cannot diagnose (peerlab run and peerlab serve wire one)"}
	}
	diag, err := d.Diagnose(ctx, l, e.Node)
	if err != nil {
		return sighting{detail: fmt.Sprintf("diagnosis from %s: %v", e.Node, err)}
	}
	o := sighting{findings: diag.Findings}
	if len(diag.Findings) == 0 {
		o.detail = fmt.Sprintf("diagnosis from %s: no finding (healthy: %t)", e.Node, diag.Healthy)
		return o
	}
	top := diag.Findings[0]
	o.detail = fmt.Sprintf("diagnosis from %s: top finding %s (%s)", e.Node, top.Cause, top.Confidence)
	if top.Node != "" {
		o.detail += " on " + top.Node
	}
	if top.Peer != "" {
		o.detail += " peer " + top.Peer
	}
	if top.Summary != "" {
		o.detail += ": " + top.Summary
	}
	o.seen = top.Cause == e.Cause &&
		l.namesNode(top.Node, e.CauseNode) && l.namesNode(top.Peer, e.CausePeer) &&
		confidenceRank(top.Confidence) >= confidenceRank(e.Confidence)
	return o
}

// namesNode reports whether a finding's node or peer field (a name or an
// address) names node; any value does when node is "".
func (l *Lab) namesNode(field, node string) bool {
	if node == "" {
		return true
	}
	return field == node || field == l.labAddress(node)
}

// confidenceRank orders confidences ("" lowest).
func confidenceRank(c string) int {
	return slices.Index(topology.Confidences(), c) + 1
}

// sessionKey names one end's view of a session.
type sessionKey struct{ local, remote string }

// indexSessions maps (local, remote) to that end's status.
func indexSessions(ss []SessionStatus) map[sessionKey]SessionStatus {
	m := make(map[sessionKey]SessionStatus, len(ss))
	for _, s := range ss {
		m[sessionKey{s.Local, s.Remote}] = s
	}
	return m
}

// pairsEstablished reports whether every pair is Established at both ends
// (for `established`) or any pair is (for `not-established`), with the
// states of the pairs that decide it.
func pairsEstablished(pairs [][2]string, views map[sessionKey]SessionStatus, wantAll bool) (bool, string) {
	var bad, good []string
	for _, p := range pairs {
		a, b := views[sessionKey{p[0], p[1]}], views[sessionKey{p[1], p[0]}]
		line := fmt.Sprintf("%s: %s", endView(p[0], p[1], a), endView(p[1], p[0], b))
		if a.Established() && b.Established() {
			good = append(good, line)
		} else {
			bad = append(bad, line)
		}
	}
	all := len(bad) == 0
	if wantAll {
		if all {
			return true, fmt.Sprintf("%d session(s) Established", len(good))
		}
		return false, summarize(bad)
	}
	if len(good) > 0 {
		return true, summarize(good)
	}
	return false, summarize(bad)
}

// endView renders one end's state: "node1->node2 Active (last error: …)".
func endView(local, remote string, s SessionStatus) string {
	state := s.State
	if state == "" {
		state = "unknown"
	}
	out := fmt.Sprintf("%s->%s %s", local, remote, state)
	switch {
	case s.Notification != nil:
		out += " (NOTIFICATION " + s.Notification.String() + ")"
	case s.LastError != "":
		out += " (last error: " + s.LastError + ")"
	}
	return out
}

// summarize joins at most five lines and counts the rest.
func summarize(lines []string) string {
	const most = 5
	if len(lines) <= most {
		return strings.Join(lines, "; ")
	}
	return fmt.Sprintf("%s; and %d more", strings.Join(lines[:most], "; "), len(lines)-most)
}
