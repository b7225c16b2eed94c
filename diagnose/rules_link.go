package diagnose

import "fmt"

// peeringLinkDown returns the evidence that the link carrying the session
// between n and peer is down at either end: the interface holding n's BGP
// address, or the one holding peer on the peer's node. Nil when neither
// end's `ip addr` shows it down (or was not read).
func peeringLinkDown(c *Cluster, n *Node, peer string) (lines []Line, where string) {
	if it, ok := n.HasAddr(n.BGPAddr()); ok && it.Down {
		return it.Lines[:1], c.Label(n)
	}
	if pn := c.NodeByAddr(peer); pn != nil && pn != n {
		if it, ok := pn.HasAddr(peer); ok && it.Down {
			return it.Lines[:1], c.Label(pn)
		}
	}
	return nil, ""
}

// ruleLinkDown: a down session whose link is down at one end (`ip addr`
// shows the interface holding the peering address without UP or with
// NO-CARRIER). Nothing crosses that link: the hold timer expires on the
// far end and connects get no ARP answer, whatever BIRD's last error.
func ruleLinkDown(c *Cluster) []Finding {
	var out []Finding
	for _, n := range c.Nodes {
		label := c.Label(n)
		for _, s := range n.DownSessions() {
			lines, where := peeringLinkDown(c, n, s.Peer)
			if lines == nil {
				continue
			}
			out = append(out, newFinding(CauseNoRouteToPeer, High, label, s.Peer,
				fmt.Sprintf("%s: the link to %s is down on %s: nothing crosses it", orNode(label), s.Peer, orNode(where)),
				concat(s.Lines, lines)).withSteps(fmt.Sprintf("on %s: ip link show; bring the interface up (ip link set <dev> up) or fix the cable/virtual link", orNode(where))))
		}
	}
	return out
}
