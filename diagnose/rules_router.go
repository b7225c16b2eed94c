package diagnose

import (
	"fmt"
	"net/netip"
	"strings"
)

// routerPeer reports whether peer is a BGP speaker that is not a Calico
// node: every session to it is a Global_/Node_ BGPPeer (calicoctl type
// "global" or "node specific"), and no evidence makes it a Calico node (no
// node owns the address, no node meshes with it, kubectl does not list
// it). Such a peer runs no BIRD of Calico's, so "BIRD is down there" is
// never the conclusion.
func routerPeer(c *Cluster, peer string) bool {
	if peer == "" || c.NodeByAddr(peer) != nil {
		return false
	}
	for _, k := range c.KubeNodes() {
		if k.InternalIP == peer || k.ExternalIP == peer {
			return false
		}
	}
	bgpPeer := false
	for _, n := range c.Nodes {
		for _, p := range n.Obs.Pods {
			if p.CalicoNode() && p.IP == peer {
				return false
			}
		}
		for _, na := range n.Obs.NodeAddrs {
			if na.Addr == peer {
				return false
			}
		}
		for _, s := range n.Sessions() {
			if s.Peer != peer {
				continue
			}
			if s.Mesh {
				return false
			}
			if strings.HasPrefix(s.Protocol, "Global_") || strings.HasPrefix(s.Protocol, "Node_") {
				bgpPeer = true
			}
		}
		for _, st := range n.Obs.Status {
			for _, sp := range st.Peers {
				lt := strings.ToLower(sp.Type)
				if sp.Address == peer && (strings.HasPrefix(lt, "global") || strings.HasPrefix(lt, "node")) {
					bgpPeer = true
				}
			}
		}
	}
	return bgpPeer
}

// routerNotifications returns the NOTIFICATIONs of code/subcode that
// routers logged, as error events of the node whose evidence holds the
// log, with the router's neighbor as the peer.
func routerNotifications(n *Node, code, subcode uint8) []routerNotif {
	var out []routerNotif
	for _, ev := range n.Obs.RouterEvents {
		if ev.MD5 == "" && ev.HasCode && ev.Code == code && ev.Subcode == subcode {
			out = append(out, routerNotif{ev})
		}
	}
	return out
}

type routerNotif struct{ RouterEvent }

func (r routerNotif) direction() string {
	if r.Sent {
		return "sent by the router to"
	}
	return "received by the router from"
}

// ruleRouterMD5: a router logs segments from a neighbor without the MD5
// digest it expects, or with a wrong one.
func ruleRouterMD5(c *Cluster) []Finding {
	var out []Finding
	for _, n := range c.Nodes {
		label := c.Label(n)
		for _, ev := range n.Obs.RouterEvents {
			if ev.MD5 == "" {
				continue
			}
			if ev.MD5 == "setfail" {
				out = append(out, newFinding(CauseMD5Unsupported, Low, label, ev.Neighbor,
					fmt.Sprintf("%s: the speaker could not set the TCP MD5 key for %s on its socket (kernel without TCP_MD5SIG, or a kernel limit such as optmem_max)", orNode(label), ev.Neighbor),
					[]Line{ev.Line}).withNotes(fmt.Sprintf("%s: the error after 'set md5' names the reason; 'cannot allocate memory' points at net.core.optmem_max", orNode(label))))
				continue
			}
			what := "carry a wrong MD5 digest"
			if ev.MD5 == "missing" {
				what = "carry no MD5 digest (a password only on the router)"
			}
			out = append(out, newFinding(CauseMD5Mismatch, High, label, ev.Neighbor,
				fmt.Sprintf("%s: the router drops BGP segments from %s that %s", orNode(label), ev.Neighbor, what), []Line{ev.Line}))
		}
	}
	return out
}

// ruleBridgePeer: a node's session is down towards an address in Docker's
// default bridge network: the peer node's calico-node advertised its
// docker0 address (a wrong autodetection on that node).
func ruleBridgePeer(c *Cluster) []Finding {
	var out []Finding
	for _, n := range c.Nodes {
		label := c.Label(n)
		for _, s := range n.DownSessions() {
			a, ok := parseAddr(s.Peer)
			if !ok || !s.Mesh {
				continue
			}
			switch {
			case dockerDefault.Contains(a), linkLocal4.Contains(a):
				out = append(out, newFinding(CauseWrongIPAutodetect, Medium, label, s.Peer,
					fmt.Sprintf("%s: its mesh peer %s is a Docker bridge or link-local address: the node behind it advertised the wrong interface's address", orNode(label), s.Peer), s.Lines).withNotes(
					fmt.Sprintf("the calico-node log of the node with %s ('Using autodetected IPv4 address on interface ...') names the interface it picked", s.Peer)))
			case dockerGateway(a):
				out = append(out, newFinding(CauseWrongIPAutodetect, Low, label, s.Peer,
					fmt.Sprintf("%s: its mesh peer %s looks like a Docker network's gateway (172.x.0.1): the node behind it may have advertised a bridge address", orNode(label), s.Peer), s.Lines))
			}
		}
	}
	return out
}

// dockerGateway reports whether a is 172.18-31.0.1, the gateway Docker
// gives its user-defined bridge networks.
func dockerGateway(a netip.Addr) bool {
	if !a.Is4() {
		return false
	}
	b := a.As4()
	return b[0] == 172 && b[1] >= 18 && b[1] <= 31 && b[2] == 0 && b[3] == 1
}

// ruleUnexplainedSymptoms: a node shows trouble that no catalogue cause
// can be drawn from (readiness says no peering is established without
// naming peers, or names them by a placeholder such as "<node-ip>";
// calico-node cannot list a resource; its pod is not ready): an unknown
// finding quoting it, so the report does not say healthy.
func ruleUnexplainedSymptoms(c *Cluster) []Finding {
	var out []Finding
	for _, n := range c.Nodes {
		var lines []Line
		for _, r := range n.Obs.Readiness {
			if r.NoPeers || !r.BirdSocketMissing && len(r.NotEstablished) == 0 {
				lines = append(lines, r.Line)
			}
		}
		if _, unconf := n.Unconfigured(); len(n.Obs.APIErrors) == 0 && !unconf {
			// API errors and an unconfigured BIRD have rules of their own.
			lines = append(lines, n.Obs.DatastoreErrors...)
		}
		for _, p := range n.Obs.Pods {
			if !p.CalicoNode() || podNodeHasBirdEvidence(c, n, p.Node) {
				continue // that node's own evidence is read instead
			}
			if ready, total, ok := strings.Cut(p.Ready, "/"); ok && ready != total || containsFold(p.Status, "CrashLoop") || containsFold(p.Status, "Error") {
				lines = append(lines, p.Line)
			}
		}
		if len(lines) == 0 {
			continue
		}
		label := c.Label(n)
		out = append(out, newFinding(CauseUnknown, Low, label, "",
			fmt.Sprintf("%s: calico-node reports trouble, but the evidence does not show which session fails or why", orNode(label)), firstLines(lines, 4)))
	}
	return out
}
