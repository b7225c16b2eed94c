package lab

import (
	"context"
	"time"
)

// pollEvery is how often a node that pushes no events (BIRD) is asked for
// its sessions.
const pollEvery = 500 * time.Millisecond

// pollSessions turns a node without events into one: it asks the node for
// its sessions every interval and records each change of state or of last
// error as an event, with the daemon's own words (BIRD's state and "Last
// error" text). It returns when ctx ends.
func (l *Lab) pollSessions(ctx context.Context, node Node, every time.Duration) {
	prev := map[string]SessionStatus{}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		// One poll may not hang the poller: a daemon that stops answering
		// (frozen, overloaded) costs one interval, not the watch.
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		ss, err := node.Sessions(pctx)
		cancel()
		if err == nil {
			now := time.Now()
			for _, s := range ss {
				p, seen := prev[s.Remote]
				if !seen || p.State != s.State || p.LastError != s.LastError {
					l.record(SessionEvent{
						Time: now, Local: s.Local, Remote: s.Remote, From: p.State, To: s.State,
						Reason: s.LastError, Notification: s.Notification,
					})
				}
				prev[s.Remote] = s
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
