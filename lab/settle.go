package lab

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// settlePoll is how often Settle asks the nodes for their sessions.
const settlePoll = 500 * time.Millisecond

// Settle waits until the lab has settled and says how it went: with
// expectations in the topology, until every one is decided (Check); without
// any, until every session is Established, as one result. It returns when
// ctx ends too; what is undecided then fails. opts are Check's (a
// Diagnoser for diagnosis expectations).
func (l *Lab) Settle(ctx context.Context, opts CheckOptions) []ExpectationResult {
	if len(l.topo.Expectations) > 0 {
		return l.Check(ctx, opts)
	}
	res := ExpectationResult{Description: "established all sessions (the topology has no expectations)"}
	ticker := time.NewTicker(settlePoll)
	defer ticker.Stop()
	for {
		ss, err := l.Sessions(ctx)
		var down []string
		for _, s := range ss {
			if !s.Established() {
				down = append(down, fmt.Sprintf("%s->%s %s", s.Local, s.Remote, s.State))
			}
		}
		res.AfterMS = time.Since(l.started).Milliseconds()
		switch {
		case err == nil && len(down) == 0:
			res.OK, res.Detail = true, fmt.Sprintf("%d session end(s) Established", len(ss))
			return []ExpectationResult{res}
		case err != nil:
			res.Detail = fmt.Sprintf("sessions: %v", err)
		default:
			res.Detail = "not Established: " + strings.Join(down, ", ")
		}
		select {
		case <-ctx.Done():
			res.Detail += " (gave up waiting)"
			return []ExpectationResult{res}
		case <-ticker.C:
		}
	}
}
