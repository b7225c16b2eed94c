package diagnose

import (
	"fmt"
	"strings"
)

// birdDefaultHold is BIRD's hold time when bird.cfg sets none (both
// versions).
const birdDefaultHold = 240

// ruleBadTimers: bird.cfg sets BGP timers that cannot keep a session up:
// a hold time of 1 or 2 s (BGP allows 0 or at least 3, RFC 4271 4.2), or a
// keepalive interval not below the hold time the session runs with (the
// lower of both ends' hold times), so the peer's hold timer expires
// between two keepalives.
func ruleBadTimers(c *Cluster) []Finding {
	var out []Finding
	for _, n := range c.Nodes {
		label := c.Label(n)
		for _, cfg := range n.Obs.BirdConfigs {
			byWhy := map[string]*Finding{}
			var order []string
			for _, p := range cfg.Peers {
				why, conf, lines := badTimers(c, n, p)
				if why == "" {
					continue
				}
				f, ok := byWhy[why]
				if !ok {
					nf := newFinding(CauseBadTimers, conf, label, p.Neighbor, fmt.Sprintf("%s: %s", orNode(label), why), lines)
					f = &nf
					byWhy[why] = f
					order = append(order, why)
				}
				f.Evidence = appendUniqueAll(f.Evidence, lineStrings(lines)...)
				if f.Peer != p.Neighbor {
					f.Peer = "" // the template's timers: every session of the node
				}
			}
			for _, why := range order {
				f := byWhy[why]
				if f.Peer == "" && len(cfg.Peers) > 1 {
					f.Summary += fmt.Sprintf(" (all %d sessions)", len(cfg.Peers))
				}
				out = append(out, f.withSteps(fmt.Sprintf("on %s: set hold time to 0 or at least 3 s and keepalive time to at most a third of it (Calico: keepAliveTime/holdTime of the BGPConfiguration or BGPPeer), then birdc configure", orNode(label))))
			}
		}
	}
	return out
}

// badTimers says what is wrong with the timers of p on node n ("" when
// nothing), how sure that is, and quotes the lines that set them. A
// keepalive not below the node's own hold time is certain; one that only
// fails against the peer's lower hold time (the session runs with the
// lower of both) is medium: the peer's hold time is as much to blame.
func badTimers(c *Cluster, n *Node, p ConfigPeer) (string, Confidence, []Line) {
	hold, ka := p.HoldTime, p.KeepaliveTime
	if hold > 0 && hold < 3 {
		return fmt.Sprintf("hold time %d s is below the 3 s BGP allows (only 0 or 3 and more): BIRD refuses the config or the peer refuses the OPEN", hold), High, []Line{p.HoldLine}
	}
	if ka <= 0 {
		return "", "", nil
	}
	own, lines := hold, []Line{p.KeepaliveLine}
	if hold < 0 {
		own = birdDefaultHold
	} else {
		lines = append(lines, p.HoldLine)
	}
	if own > 0 && ka >= own {
		return fmt.Sprintf("keepalive time %d s is not below its hold time %d s: the peer's hold timer expires before the next keepalive (NOTIFICATION 4/0 Hold timer expired)", ka, own), High, lines
	}
	if ph, pl, ok := peerHold(c, n, p.Neighbor); ok && ph > 0 && (own == 0 || ph < own) && ka >= ph {
		return fmt.Sprintf("keepalive time %d s is not below the peer's hold time %d s, which the session runs with: the peer's hold timer expires before the next keepalive", ka, ph), Medium, append(lines, pl)
	}
	return "", "", nil
}

// peerHold is the hold time the peer at addr configures for its session
// with n, when its bird.cfg is in the evidence.
func peerHold(c *Cluster, n *Node, addr string) (int, Line, bool) {
	pn := c.NodeByAddr(addr)
	if pn == nil || pn == n {
		return 0, Line{}, false
	}
	mine := c.Addrs(n)
	for _, cfg := range pn.Obs.BirdConfigs {
		for _, pp := range cfg.Peers {
			if containsStr(mine, pp.Neighbor) && pp.HoldTime >= 0 {
				return pp.HoldTime, pp.HoldLine, true
			}
		}
	}
	return 0, Line{}, false
}

// lineStrings renders lines as evidence strings, skipping empty ones.
func lineStrings(ls []Line) []string {
	var out []string
	for _, l := range ls {
		if strings.TrimSpace(l.Text) != "" {
			out = append(out, l.String())
		}
	}
	return out
}

// timersToBlame names the node (n or the peer at addr) whose bird.cfg
// timers for the session between them cannot work, or "".
func timersToBlame(c *Cluster, n *Node, addr string) string {
	for _, cfg := range n.Obs.BirdConfigs {
		for _, p := range cfg.Peers {
			if p.Neighbor == addr {
				if why, _, _ := badTimers(c, n, p); why != "" {
					return c.Label(n)
				}
			}
		}
	}
	pn := c.NodeByAddr(addr)
	if pn == nil || pn == n {
		return ""
	}
	mine := c.Addrs(n)
	for _, cfg := range pn.Obs.BirdConfigs {
		for _, p := range cfg.Peers {
			if containsStr(mine, p.Neighbor) {
				if why, _, _ := badTimers(c, pn, p); why != "" {
					return c.Label(pn)
				}
			}
		}
	}
	return ""
}
