package diagnose

import (
	"fmt"
	"strings"
)

// downWithError calls fn for every down session of every node whose
// error contains one of texts (case-insensitive).
func downWithError(c *Cluster, texts []string, fn func(n *Node, s Session)) {
	for _, n := range c.Nodes {
		for _, s := range n.DownSessions() {
			for _, t := range texts {
				if containsFold(s.Error, t) {
					fn(n, s)
					break
				}
			}
		}
	}
}

// isBird reports whether a process name is BIRD.
func isBird(proc string) bool {
	return proc == "bird" || proc == "bird6" || strings.HasPrefix(proc, "bird")
}

// ruleConnectionRefused: "Socket: Connection refused" means nothing
// accepted on the peer's port 179, or a firewall answered with a reset.
// The peer's ss -ltnp or its own status tells them apart.
func ruleConnectionRefused(c *Cluster) []Finding {
	var out []Finding
	downWithError(c, []string{"Connection refused"}, func(n *Node, s Session) {
		label := c.Label(n)
		pn := c.NodeByAddr(s.Peer)
		if pn != nil {
			if _, unconf := pn.Unconfigured(); unconf {
				return // ruleBirdUnconfigured explains it on the peer
			}
			if pn.isRouter() {
				out = append(out, refusedByRouter(c, n, pn, s)...)
				return
			}
			if why, down := pn.BirdDown(); down {
				out = append(out, newFinding(CausePeerBirdDown, High, label, s.Peer,
					fmt.Sprintf("%s: %s refuses port 179 because its BIRD is not running", orNode(label), s.Peer), concat(s.Lines, why)))
				return
			}
			if pn.Obs.ListenersSeen {
				out = append(out, refusedBySS(c, n, pn, s))
				return
			}
		}
		if routerPeer(c, s.Peer) || n.isRouter() && pn == nil {
			// A router's own peers are routers too, as far as the
			// evidence knows: no BIRD to be down.
			out = append(out, newFinding(CauseTCP179Rejected, Low, label, s.Peer,
				fmt.Sprintf("%s: %s, a BGP peer that is not a Calico node, refuses TCP 179: it has no neighbor for this node's address, or an ACL/firewall rejects it", orNode(label), s.Peer), s.Lines).withNotes(
				fmt.Sprintf("%s: the neighbor configuration of %s for this node, and its log, would say which", orNode(label), s.Peer)))
			return
		}
		out = append(out,
			newFinding(CausePeerBirdDown, Medium, label, s.Peer,
				fmt.Sprintf("%s: %s refuses connections to port 179: most often BIRD is not running there; a firewall REJECT looks the same from here", orNode(label), s.Peer), s.Lines).withNotes(
				fmt.Sprintf("%s: ss -ltnp from %s would tell peer-bird-down (nothing on :179) from tcp179-rejected (bird listens)", orNode(label), s.Peer)),
			newFinding(CauseTCP179Rejected, Low, label, s.Peer,
				fmt.Sprintf("%s: a firewall rejecting TCP 179 towards %s would show the same 'Connection refused'", orNode(label), s.Peer), s.Lines))
	})
	return out
}

// refusedBySS decides a refused session with the peer's listening sockets.
func refusedBySS(c *Cluster, n, pn *Node, s Session) Finding {
	label := c.Label(n)
	ls := pn.listenersOn(179)
	var lines []Line
	for _, l := range ls {
		lines = append(lines, l.Line)
	}
	if len(ls) == 0 {
		return newFinding(CausePeerBirdDown, High, label, s.Peer,
			fmt.Sprintf("%s: %s refuses port 179 and nothing listens on :179 there: BIRD is not running (or not listening)", orNode(label), s.Peer),
			concat(s.Lines, []Line{{pn.Obs.ListenersSource, "(ss -ltnp) nothing listens on port 179"}}))
	}
	for _, l := range ls {
		if l.Process != "" && !isBird(l.Process) {
			return newFinding(CausePort179InUse, High, label, s.Peer,
				fmt.Sprintf("%s: port 179 on %s is held by %q, not BIRD", orNode(label), s.Peer, l.Process), concat(s.Lines, lines))
		}
	}
	return newFinding(CauseTCP179Rejected, High, label, s.Peer,
		fmt.Sprintf("%s: BIRD listens on %s:179 yet connections are refused: a firewall rejects TCP 179 on the way", orNode(label), s.Peer),
		concat(s.Lines, lines)).withSteps(fmt.Sprintf("on %s and %s: iptables -S | grep -w 179; nft list ruleset | grep -w 179", orNode(label), c.Label(pn)))
}

// refusedByRouter decides a session refused by a router node of the lab
// (GoBGP, injector): it runs no BIRD, so neither peer-bird-down nor
// port179-in-use applies. When its speaker listens on :179 a firewall
// rejects; when nothing listens the evidence says no more.
func refusedByRouter(c *Cluster, n, pn *Node, s Session) []Finding {
	label := c.Label(n)
	if !pn.Obs.ListenersSeen {
		return nil
	}
	ls := pn.listenersOn(179)
	if len(ls) == 0 {
		return nil // the unknown finding quotes it: the router's speaker does not listen
	}
	var lines []Line
	for _, l := range ls {
		lines = append(lines, l.Line)
	}
	return []Finding{newFinding(CauseTCP179Rejected, High, label, s.Peer,
		fmt.Sprintf("%s: the %s router %s listens on :179 yet connections are refused: a firewall rejects TCP 179 on the way", orNode(label), pn.Obs.Router, c.Label(pn)),
		concat(s.Lines, lines))}
}

// ruleConnectionResetOrClosed: the peer accepted, then reset or closed the
// connection. A firewall reset, source NAT (the peer does not know the
// address) or a peer without a protocol for us all look like this.
func ruleConnectionResetOrClosed(c *Cluster) []Finding {
	var out []Finding
	downWithError(c, []string{"Connection reset", "Connection closed"}, func(n *Node, s Session) {
		label := c.Label(n)
		if pn := c.NodeByAddr(s.Peer); pn != nil {
			if _, unconf := pn.Unconfigured(); unconf {
				return
			}
		}
		note := fmt.Sprintf("%s: the BIRD log of %s would say 'Unexpected connect from unknown address X' if it does not know the address %s connects from", orNode(label), s.Peer, orNode(label))
		if containsFold(s.Error, "reset") {
			out = append(out,
				newFinding(CauseTCP179Rejected, Low, label, s.Peer,
					fmt.Sprintf("%s: connections to %s:179 are reset: a firewall 'reject with tcp-reset' or a peer that drops them; cannot tell which from here", orNode(label), s.Peer), s.Lines).withNotes(note),
				newFinding(CauseSNATNodeTraffic, Low, label, s.Peer,
					fmt.Sprintf("%s: a source-NATed connection the peer does not recognise is also reset", orNode(label)), s.Lines))
			return
		}
		out = append(out,
			newFinding(CauseSNATNodeTraffic, Low, label, s.Peer,
				fmt.Sprintf("%s: %s accepts and then closes the connection: it does not know the source address; SNAT of node traffic is the usual reason", orNode(label), s.Peer), s.Lines).withNotes(note))
		if !peerHasProtocolFor(c, n, s.Peer) {
			out = append(out, newFinding(CausePeerBirdUnconfigured, Low, label, s.Peer,
				fmt.Sprintf("%s: %s may have no protocol for this node at all (stale config on the peer)", orNode(label), s.Peer), s.Lines))
		}
	})
	return out
}

// ruleConnectTimeout: connects to 179 time out, or the active side sits in
// Connect with no error: SYNs go unanswered.
func ruleConnectTimeout(c *Cluster) []Finding {
	var out []Finding
	for _, n := range c.Nodes {
		label := c.Label(n)
		for _, s := range n.DownSessions() {
			switch {
			case containsFold(s.Error, "timed out"):
				out = append(out, newFinding(CauseTCP179Dropped, Medium, label, s.Peer,
					fmt.Sprintf("%s: connections to %s:179 time out: something drops TCP 179 on the way", orNode(label), s.Peer), s.Lines))
			case s.Error == "" && !s.Passive && s.BGPState == "Connect":
				pn := c.NodeByAddr(s.Peer)
				if pn != nil {
					if _, unconf := pn.Unconfigured(); unconf {
						continue
					}
				}
				out = append(out, newFinding(CauseTCP179Dropped, Low, label, s.Peer,
					fmt.Sprintf("%s: the session to %s stays in Connect without any error: SYNs to port 179 go unanswered (BIRD records no error for this)", orNode(label), s.Peer), s.Lines).withNotes(
					fmt.Sprintf("%s: tcpdump -ni any tcp port 179 and host %s on both ends would show where the SYNs die", orNode(label), s.Peer)))
			}
		}
	}
	return out
}

// ruleNoRoute: "No route to host" is either a missing route (or ARP
// failure) or a firewall answering ICMP admin-prohibited; `ip route` of the
// node tells them apart. "Network is unreachable" is always a missing
// route; "Permission denied" is ICMPv6 admin-prohibited.
func ruleNoRoute(c *Cluster) []Finding {
	var out []Finding
	for _, n := range c.Nodes {
		label := c.Label(n)
		for _, s := range n.DownSessions() {
			switch {
			case containsFold(s.Error, "Network is unreachable"):
				out = append(out, newFinding(CauseNoRouteToPeer, High, label, s.Peer,
					fmt.Sprintf("%s: the kernel has no route to %s", orNode(label), s.Peer), s.Lines))
			case containsFold(s.Error, "Permission denied"):
				out = append(out, newFinding(CauseTCP179Rejected, Medium, label, s.Peer,
					fmt.Sprintf("%s: connects to %s are refused with ICMP administratively prohibited (a firewall reject)", orNode(label), s.Peer), s.Lines))
			case containsFold(s.Error, "No route to host"), containsFold(s.Error, "Host is unreachable"):
				out = append(out, noRouteFindings(label, n, s)...)
			}
		}
	}
	return out
}

func noRouteFindings(label string, n *Node, s Session) []Finding {
	if !n.Obs.RoutesSeen {
		return []Finding{
			newFinding(CauseNoRouteToPeer, Medium, label, s.Peer,
				fmt.Sprintf("%s: 'No route to host' towards %s: no route, or the peer does not answer ARP; a firewall's ICMP admin-prohibited looks the same", orNode(label), s.Peer), s.Lines).withNotes(
				fmt.Sprintf("%s: ip route (and ip route get %s) from this node would tell a missing route from a firewall", orNode(label), s.Peer)),
			newFinding(CauseTCP179Rejected, Low, label, s.Peer,
				fmt.Sprintf("%s: a firewall rejecting TCP 179 with ICMP admin-prohibited also gives 'No route to host'", orNode(label)), s.Lines),
		}
	}
	r, ok := bestRoute(n.Obs.Routes, s.Peer)
	if !ok || r.Type != "unicast" {
		lines := s.Lines
		why := "no route covers it"
		if ok {
			lines = append(append([]Line{}, lines...), r.Line)
			why = "its route is " + r.Type
		}
		return []Finding{newFinding(CauseNoRouteToPeer, High, label, s.Peer,
			fmt.Sprintf("%s: 'No route to host' towards %s and %s", orNode(label), s.Peer, why), lines)}
	}
	lines := append(append([]Line{}, s.Lines...), r.Line)
	return []Finding{
		newFinding(CauseTCP179Rejected, Medium, label, s.Peer,
			fmt.Sprintf("%s: a route to %s exists, so 'No route to host' is most likely a firewall answering ICMP admin-prohibited", orNode(label), s.Peer), lines).withNotes(
			fmt.Sprintf("%s: tcpdump -ni any icmp would show 'host %s unreachable - admin prohibited' if a firewall rejects", orNode(label), s.Peer)),
		newFinding(CauseNoRouteToPeer, Low, label, s.Peer,
			fmt.Sprintf("%s: or %s does not answer ARP on the connected link (host down, wrong subnet)", orNode(label), s.Peer), lines),
	}
}

// bestRoute returns the longest-prefix route covering addr.
func bestRoute(rs []Route, addr string) (Route, bool) {
	a, ok := parseAddr(addr)
	if !ok {
		return Route{}, false
	}
	var best Route
	found := false
	for _, r := range rs {
		if r.Prefix.Addr().Is4() != a.Is4() || !r.Prefix.Contains(a) {
			continue
		}
		if !found || r.Prefix.Bits() > best.Prefix.Bits() {
			best, found = r, true
		}
	}
	return best, found
}

// rulePassiveWaiting: this node is the passive end of a mesh session
// (lower address) and waits for a peer of which there is no evidence.
func rulePassiveWaiting(c *Cluster) []Finding {
	var out []Finding
	for _, n := range c.Nodes {
		label := c.Label(n)
		for _, s := range n.DownSessions() {
			if !s.Passive || (s.Error != "" && !containsFold(s.Error, "Connection closed")) || c.NodeByAddr(s.Peer) != nil {
				continue
			}
			if routerPeer(c, s.Peer) || n.isRouter() {
				out = append(out, newFinding(CauseTCP179Dropped, Low, label, s.Peer,
					fmt.Sprintf("%s waits (passive) for %s, a BGP peer that is not a Calico node, which never connects: its neighbor configuration or a filter on the way", orNode(label), s.Peer), s.Lines))
				continue
			}
			note := fmt.Sprintf("%s: it is the passive end towards %s and waits for %s to connect; %s's calico-node log, show protocols and ss -ltnp would say why it does not", orNode(label), s.Peer, s.Peer, s.Peer)
			out = append(out,
				newFinding(CausePeerBirdUnconfigured, Low, label, s.Peer,
					fmt.Sprintf("%s waits (passive) for %s, which never connects: most often its BIRD has no peers because calico-node there cannot reach the API server", orNode(label), s.Peer), s.Lines).withNotes(note),
				newFinding(CausePeerBirdDown, Low, label, s.Peer,
					fmt.Sprintf("%s: or BIRD is not running on %s", orNode(label), s.Peer), s.Lines),
				newFinding(CauseTCP179Dropped, Low, label, s.Peer,
					fmt.Sprintf("%s: or %s's SYNs to port 179 are dropped on the way", orNode(label), s.Peer), s.Lines))
		}
	}
	return out
}

// peerHasProtocolFor reports whether the peer's own evidence (its bird.cfg
// or protocols) shows a protocol for one of n's addresses.
func peerHasProtocolFor(c *Cluster, n *Node, peer string) bool {
	pn := c.NodeByAddr(peer)
	if pn == nil || pn == n {
		return false
	}
	mine := map[string]bool{}
	for _, a := range c.Addrs(n) {
		mine[a] = true
	}
	for _, cfg := range pn.Obs.BirdConfigs {
		for _, p := range cfg.Peers {
			if mine[p.Neighbor] {
				return true
			}
		}
	}
	for _, p := range pn.Obs.Protocols {
		if p.Proto == "BGP" && mine[p.NeighborAddress] {
			return true
		}
	}
	return false
}
