package lab

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/peerlab/peerlab/lab/topology"
)

// pollInterval is how often expectations are re-evaluated.
const pollInterval = 100 * time.Millisecond

// ExpectationResult is the outcome of one expectation.
type ExpectationResult struct {
	Description string `json:"description"`
	OK          bool   `json:"ok"`
	Detail      string `json:"detail"`
	// Line is the expectation's line in the topology file.
	Line int `json:"line,omitempty"`
	// AfterMS is when the outcome was decided, from lab start.
	AfterMS int64 `json:"after_ms"`
}

// Describe renders an expectation for people: "established node1 <-> node2 within 10s".
func Describe(e *topology.Expectation) string {
	switch e.Kind {
	case topology.ExpectEstablished, topology.ExpectNotEstablished:
		who := "all sessions"
		if !e.All {
			who = strings.Join(e.Nodes, " <-> ")
		}
		return fmt.Sprintf("%s %s within %s", e.Kind, who, e.Within)
	default:
		return fmt.Sprintf("%s %s at %s within %s", e.Kind, e.Route, e.At, e.Within)
	}
}

// positive reports whether the expectation waits for something to happen
// (established, route) rather than checking it never happens.
func positive(k topology.ExpectKind) bool {
	return k == topology.ExpectEstablished || k == topology.ExpectRoute
}

// Check evaluates every expectation of the lab's topology. A positive
// expectation (established, route) holds as soon as its condition is seen and
// fails when its window, counted from lab start, ends first. A negative one
// (not-established, no-route) fails as soon as the condition is seen and holds
// when its window ends without it. Check returns when all are decided or ctx
// ends (undecided ones then fail as interrupted).
func (l *Lab) Check(ctx context.Context) []ExpectationResult {
	exps := l.topo.Expectations
	results := make([]ExpectationResult, len(exps))
	pending := make([]int, 0, len(exps))
	for i, e := range exps {
		results[i] = ExpectationResult{Description: Describe(e), Line: e.Line}
		pending = append(pending, i)
	}
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	for len(pending) > 0 {
		views, err := l.views(ctx)
		now := time.Now()
		still := pending[:0]
		for _, i := range pending {
			e := exps[i]
			seen, detail := l.observe(ctx, e, views)
			if err != nil {
				detail += fmt.Sprintf(" (some nodes did not answer: %v)", err)
			}
			expired := now.Sub(l.started) >= e.Within
			switch {
			case positive(e.Kind) && seen, !positive(e.Kind) && !seen && expired:
				results[i].OK, results[i].Detail = true, detail
			case !positive(e.Kind) && seen, positive(e.Kind) && expired:
				results[i].OK, results[i].Detail = false, detail
			default:
				still = append(still, i)
				continue
			}
			results[i].AfterMS = now.Sub(l.started).Milliseconds()
		}
		pending = still
		if len(pending) == 0 {
			break
		}
		select {
		case <-ctx.Done():
			for _, i := range pending {
				results[i].Detail = "interrupted before the outcome was known: " + ctx.Err().Error()
				results[i].AfterMS = time.Since(l.started).Milliseconds()
			}
			return results
		case <-ticker.C:
		}
	}
	return results
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

// observe reports whether the expectation's condition is seen now
// (session Established at both ends / route present) and a detail line.
func (l *Lab) observe(ctx context.Context, e *topology.Expectation, views map[sessionKey]SessionStatus) (bool, string) {
	switch e.Kind {
	case topology.ExpectEstablished, topology.ExpectNotEstablished:
		pairs := [][2]string{}
		if e.All {
			for _, s := range l.topo.Sessions {
				pairs = append(pairs, [2]string{s.A, s.B})
			}
		} else {
			pairs = append(pairs, [2]string{e.Nodes[0], e.Nodes[1]})
		}
		return pairsEstablished(pairs, views, e.Kind == topology.ExpectEstablished)
	default:
		node := l.nodes[e.At]
		has, err := node.HasRoute(ctx, e.Route)
		if err != nil {
			return false, err.Error()
		}
		if has {
			return true, fmt.Sprintf("%s holds %s", e.At, e.Route)
		}
		return false, fmt.Sprintf("%s does not hold %s", e.At, e.Route)
	}
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
