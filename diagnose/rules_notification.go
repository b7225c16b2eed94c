package diagnose

import (
	"fmt"

	"github.com/peerlab/peerlab/internal/bird"
)

// notificationSummary says in words what each NOTIFICATION-driven cause means.
var notificationSummary = map[Cause]string{
	CauseASMismatch:           "the peers disagree on AS numbers (%s)",
	CauseRouterIDConflict:     "the peers have the same router ID (%s)",
	CauseHoldTimerExpired:     "the session was up and then stopped hearing keepalives (%s)",
	CauseUnacceptableHoldTime: "one end refused the other's hold time (%s)",
	CauseMD5Mismatch:          "the peer rejected the OPEN for authentication (%s)",
}

// notificationRule returns a rule concluding cause at level for every BGP
// error, in a session's last error or BIRD's log, that BIRD prints for the
// NOTIFICATION code/subcode (sent or received).
func notificationRule(code, subcode uint8, cause Cause, level Confidence) func(*Cluster) []Finding {
	return func(c *Cluster) []Finding {
		var out []Finding
		for _, n := range c.Nodes {
			label := c.Label(n)
			var events []routerNodeNotification
			for _, ev := range n.errorEvents() {
				le := bird.ParseLastError(ev.Text)
				if le.Notification {
					events = append(events, routerNodeNotification{Peer: ev.Peer, Code: le.Code, Subcode: le.Subcode, Sent: le.Sent, Lines: ev.Lines})
				}
			}
			for _, ev := range append(events, routerNodeNotifications(n)...) {
				if ev.Code != code || ev.Subcode != subcode {
					continue
				}
				dir := "received from the peer"
				if ev.Sent {
					dir = "sent to the peer"
				}
				f := newFinding(cause, level, label, ev.Peer,
					fmt.Sprintf("%s: "+notificationSummary[cause], orNode(label),
						fmt.Sprintf("NOTIFICATION %d/%d %q %s %s", code, subcode, bird.NotificationText(code, subcode), dir, ev.Peer)),
					ev.Lines)
				if code == 4 {
					// A hold timer expires whatever stops the keepalives;
					// a link down at either end is the cause, not this.
					if _, where := peeringLinkDown(c, n, ev.Peer); where != "" {
						f.Confidence = Low
						f = f.withNotes(fmt.Sprintf("%s: the hold timer with %s expired because the link is down on %s (no-route-to-peer)", orNode(label), ev.Peer, orNode(where)))
					}
					if where := timersToBlame(c, n, ev.Peer); where != "" {
						f.Confidence = Low
						f = f.withNotes(fmt.Sprintf("%s: the hold timer with %s expires because of the BGP timers in %s's bird.cfg (bad-timers)", orNode(label), ev.Peer, orNode(where)))
					}
				}
				if code == 4 {
					f = withSlowBird(f, n)
				}
				out = append(out, f)
			}
			for _, ev := range routerNotifications(n, code, subcode) {
				out = append(out, newFinding(cause, level, label, ev.Neighbor,
					fmt.Sprintf("%s: "+notificationSummary[cause], orNode(label),
						fmt.Sprintf("NOTIFICATION %d/%d %q %s %s", code, subcode, bird.NotificationText(code, subcode), ev.direction(), ev.Neighbor)),
					[]Line{ev.Line}))
			}
		}
		return out
	}
}

// withSlowBird adds BIRD's warnings that it ran late to a hold timer
// finding: a BIRD too busy to send keepalives explains the expiry.
func withSlowBird(f Finding, n *Node) Finding {
	var slow []Line
	for _, bl := range n.Obs.BirdLog {
		if bl.Slow {
			slow = append(slow, bl.Line)
		}
	}
	if len(slow) == 0 {
		return f
	}
	for _, l := range firstLines(slow, 3) {
		f.Evidence = appendUnique(f.Evidence, l.String())
	}
	f.Summary += "; BIRD itself warns that it ran late (a long I/O loop cycle), so its keepalives went out late"
	return f.withSteps("check CPU limits and load of calico-node on this node: BIRD's 'I/O loop cycle took N ms' means it could not send keepalives in time")
}

// ruleASConfig: a node's bird.cfg expects AS X from a peer whose own
// bird.cfg says its local AS is Y.
func ruleASConfig(c *Cluster) []Finding {
	var out []Finding
	for _, n := range c.Nodes {
		for _, cfg := range n.Obs.BirdConfigs {
			for _, p := range cfg.Peers {
				pn := c.NodeByAddr(p.Neighbor)
				if pn == nil || pn == n || p.NeighborAS == 0 {
					continue
				}
				for ci, pc := range pn.Obs.BirdConfigs {
					remote := c.peerSetOf(pn).remoteAS[ci]
					if remote == 0 || remote == p.NeighborAS {
						continue
					}
					label := c.Label(n)
					out = append(out, newFinding(CauseASMismatch, High, label, p.Neighbor,
						fmt.Sprintf("%s expects AS %d from %s, whose bird.cfg uses local AS %d", orNode(label), p.NeighborAS, p.Neighbor, remote),
						[]Line{p.NeighborLine, {pc.Source, fmt.Sprintf("local as %d", remote)}}))
				}
			}
		}
	}
	return out
}

// ruleRouterIDConfig: two nodes' bird.cfg use the same router id.
func ruleRouterIDConfig(c *Cluster) []Finding {
	var out []Finding
	seen := map[string]*Node{}
	for _, n := range c.Nodes {
		for _, cfg := range n.Obs.BirdConfigs {
			if cfg.RouterID == "" {
				continue
			}
			other, ok := seen[cfg.RouterID]
			if !ok {
				seen[cfg.RouterID] = n
				continue
			}
			if other == n {
				continue
			}
			label := c.Label(n)
			lines := []Line{{cfg.Source, "router id " + cfg.RouterID + ";"}}
			for _, oc := range other.Obs.BirdConfigs {
				lines = append(lines, Line{oc.Source, "router id " + oc.RouterID + ";"})
			}
			out = append(out, newFinding(CauseRouterIDConflict, High, label, other.BGPAddr(),
				fmt.Sprintf("%s and %s both use router id %s", orNode(label), orNode(c.Label(other)), cfg.RouterID), lines))
		}
	}
	return out
}
