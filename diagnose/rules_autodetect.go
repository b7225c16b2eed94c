package diagnose

import (
	"fmt"
	"net/netip"
	"strings"
)

// Address ranges that are almost never a node's own network address.
var (
	linkLocal4 = netip.MustParsePrefix("169.254.0.0/16")
	// vboxNAT is the address VirtualBox's NAT gives the first interface
	// of every VM (Vagrant's eth0): the same on every node.
	vboxNAT = netip.MustParseAddr("10.0.2.15")
)

// currentNodeAddr returns the last address calico-node's startup chose for
// n, with the interface of any line that named one for that address.
func currentNodeAddr(n *Node) (NodeAddr, []Line, bool) {
	if len(n.Obs.NodeAddrs) == 0 {
		return NodeAddr{}, nil, false
	}
	cur := n.Obs.NodeAddrs[len(n.Obs.NodeAddrs)-1]
	lines := []Line{cur.Line}
	for _, na := range n.Obs.NodeAddrs {
		if na.Addr == cur.Addr && na.Line != cur.Line {
			if cur.Interface == "" && na.Interface != "" {
				cur.Interface = na.Interface
			}
			if cur.How == "environment" && na.How != "environment" {
				cur.How = na.How
			}
			lines = append(lines, na.Line)
		}
	}
	return cur, firstLines(lines, 3), true
}

// suspectAddr says why addr on interface iface is not a node's own
// network address, or "" when nothing says so.
func suspectAddr(na NodeAddr) string {
	a, ok := parseAddr(na.Addr)
	if !ok {
		return ""
	}
	switch {
	case na.Interface != "" && bridgeInterface(na.Interface):
		return fmt.Sprintf("the address of %s, a container bridge, overlay or tunnel device, not the node's network", na.Interface)
	case a.IsLinkLocalUnicast(), linkLocal4.Contains(a):
		return "a link-local address"
	case dockerDefault.Contains(a) && na.Interface == "":
		return "in Docker's default bridge network 172.17.0.0/16"
	case a.IsLoopback():
		return "a loopback address"
	}
	return ""
}

// ruleAutodetectedAddr: calico-node's startup log says which address it
// gave the node. A bridge, tunnel, link-local or Docker address is wrong
// (high when autodetected); the same address on two nodes, or an address
// the startup found in use by another Calico node, is wrong-ip-autodetect
// or a stale node; an address differing from the Kubernetes one is
// medium; an address the host does not have is source-ip-missing.
func ruleAutodetectedAddr(c *Cluster) []Finding {
	var out []Finding
	byAddr := map[string][]*Node{}
	for _, n := range c.Nodes {
		if na, _, ok := currentNodeAddr(n); ok {
			byAddr[na.Addr] = append(byAddr[na.Addr], n)
		}
	}
	for _, n := range c.Nodes {
		label := c.Label(n)
		na, lines, ok := currentNodeAddr(n)
		if !ok {
			out = append(out, conflictFindings(c, n, nil)...)
			continue
		}
		why, conf := "", High
		for _, x := range n.Obs.NodeAddrs {
			if w := suspectAddr(x); w != "" {
				why, na, lines = w, x, []Line{x.Line}
				break
			}
			if w := unusualInterface(x.Interface); w != "" && why == "" {
				// Unusual, not wrong: on a switch running Kubernetes
				// the port-channel may be the right network.
				why, na, lines, conf = w, x, []Line{x.Line}, Low
			}
		}
		shared := byAddr[na.Addr]
		switch {
		case why != "":
			if na.How == "environment" && conf == High {
				conf = Medium
			}
			out = append(out, pinToAffected(c, n, na.Addr, newFinding(CauseWrongIPAutodetect, conf, label, "",
				fmt.Sprintf("%s: calico-node gave the node %s, %s", orNode(label), na.Addr, why),
				concat(lines, conflictLines(n)))))
			continue
		case len(shared) > 1:
			conf := Medium
			f := newFinding(CauseWrongIPAutodetect, conf, label, "",
				fmt.Sprintf("%s: calico-node gave the node %s, which %d nodes detected as their own: an address shared by all nodes (NAT or bridge) is no node's address", orNode(label), na.Addr, len(shared)),
				concat(lines, conflictLines(n))).withNotes(
				fmt.Sprintf("%s: if the nodes really share %s (cloned VMs), router-id-conflict is the cause; ip -4 addr on each node tells", orNode(label), na.Addr))
			out = append(out, f)
			continue
		case na.NotOnHost:
			out = append(out, newFinding(CauseSourceIPMissing, Medium, label, "",
				fmt.Sprintf("%s: calico-node was told to use %s, which no interface of the host has", orNode(label), na.Addr), lines).withNotes(
				fmt.Sprintf("%s: ip -4 addr would confirm the address is missing", orNode(label))))
			continue
		}
		if a, ok := parseAddr(na.Addr); ok && a == vboxNAT {
			out = append(out, newFinding(CauseWrongIPAutodetect, Medium, label, "",
				fmt.Sprintf("%s: calico-node gave the node %s, VirtualBox's NAT address, the same on every VM", orNode(label), na.Addr),
				concat(lines, conflictLines(n))))
			continue
		}
		if ip, kl, ok := kubeAddrOf(c, n); ok && ip != na.Addr {
			out = append(out, newFinding(CauseWrongIPAutodetect, Medium, label, "",
				fmt.Sprintf("%s: calico-node gave the node %s but Kubernetes knows it as %s", orNode(label), na.Addr, ip),
				append(lines, kl)).withNotes(
				fmt.Sprintf("%s: a deliberate second network for BGP would also look like this", orNode(label))))
			continue
		}
		out = append(out, conflictFindings(c, n, lines)...)
	}
	return out
}

// conflictLines quotes n's "already using the IPv4 address" warnings.
func conflictLines(n *Node) []Line {
	var out []Line
	for _, ac := range n.Obs.AddrConflicts {
		out = append(out, ac.Line)
	}
	return firstLines(out, 2)
}

// conflictFindings: calico-node refused to start because another Calico
// node uses the address it found. Either the detection picked an address
// every node has, or the other node object is stale (the host came back
// under a new name); the log alone cannot tell.
func conflictFindings(c *Cluster, n *Node, lines []Line) []Finding {
	if len(n.Obs.AddrConflicts) == 0 {
		return nil
	}
	label := c.Label(n)
	ac := n.Obs.AddrConflicts[0]
	return []Finding{
		newFinding(CauseWrongIPAutodetect, Low, label, "",
			fmt.Sprintf("%s: calico-node found %s already used by Calico node %q and stopped: the detected address is probably not this node's own", orNode(label), ac.Addr, ac.Other),
			concat(conflictLines(n), lines)).withNotes(
			fmt.Sprintf("%s: ip -4 addr on %s and on %s, and calicoctl get node %s -o yaml, would tell a shared (wrong) address from a stale node object", orNode(label), orNode(label), ac.Other, ac.Other)),
		newFinding(CauseStaleNode, Low, label, "",
			fmt.Sprintf("%s: or Calico node %q is a leftover of this host under another name", orNode(label), ac.Other),
			conflictLines(n)),
	}
}

// kubeAddrOf returns n's Kubernetes address: its `kubectl get nodes`
// INTERNAL-IP, else the IP of its calico-node pod (host network).
func kubeAddrOf(c *Cluster, n *Node) (string, Line, bool) {
	if n.Name == "" {
		return "", Line{}, false
	}
	for _, k := range c.KubeNodes() {
		if k.Name == n.Name && k.InternalIP != "" {
			return k.InternalIP, k.Line, true
		}
	}
	for _, m := range c.Nodes {
		for _, p := range m.Obs.Pods {
			if p.CalicoNode() && p.Node == n.Name {
				if _, ok := parseAddr(p.IP); ok {
					return p.IP, p.Line, true
				}
			}
		}
	}
	return "", Line{}, false
}

// unusualInterface says why an interface is an unusual choice for a
// node's address although it may carry one (a switch's port-channel on a
// SONiC node), or "".
func unusualInterface(name string) string {
	l := strings.ToLower(name)
	if strings.HasPrefix(l, "portchannel") || strings.HasPrefix(l, "port-channel") {
		return fmt.Sprintf("the address of %s, a switch port-channel (data-plane interface), most often not the address the other nodes reach", name)
	}
	return ""
}

// ruleConfigPeerAddr: a bird.cfg peer that confd wrote for node N ("# For
// peer /host/N/ip_addr_v4") uses an address that is not N's Kubernetes
// address (its INTERNAL-IP or its calico-node pod's IP): N's calico-node
// advertised another interface's address.
func ruleConfigPeerAddr(c *Cluster) []Finding {
	var out []Finding
	for _, n := range c.Nodes {
		label := c.Label(n)
		for _, cfg := range n.Obs.BirdConfigs {
			for _, p := range cfg.Peers {
				name := hostFromPeerNode(p.PeerNode)
				if name == "" || p.Neighbor == "" {
					continue
				}
				ip, kl, ok := kubeAddrOf(c, &Node{Name: name})
				if !ok || ip == p.Neighbor {
					continue
				}
				out = append(out, newFinding(CauseWrongIPAutodetect, Medium, label, p.Neighbor,
					fmt.Sprintf("%s: bird.cfg peers with %s at %s, but Kubernetes knows %s as %s: calico-node on %s advertised another interface's address", orNode(label), name, p.Neighbor, name, ip, name),
					[]Line{p.Line, p.NeighborLine, kl}).withNotes(
					fmt.Sprintf("%s: a deliberate BGP network would look the same; calicoctl get node %s -o yaml shows the address Calico chose", name, name)))
			}
		}
	}
	return out
}

// hostFromPeerNode returns N of confd's "/host/N/ip_addr_v4".
func hostFromPeerNode(s string) string {
	rest, ok := strings.CutPrefix(s, "/host/")
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(rest, "/")
	return name
}

// pinToAffected moves a finding about an unnamed node's address addr to
// the first named node whose session to addr is down, as that session's
// explanation: "str-renuka-01: BGP not established with 10.0.0.62" and
// the log of the node that chose 10.0.0.62 are one story, and a named
// node is what the reader can act on. A finding of a named node stays.
func pinToAffected(c *Cluster, n *Node, addr string, f Finding) Finding {
	if n.Name != "" || addr == "" {
		return f
	}
	for _, m := range c.Nodes {
		if m == n || m.Name == "" {
			continue
		}
		for _, s := range m.DownSessions() {
			if s.Peer != addr {
				continue
			}
			f.Node, f.Peer = c.Label(m), addr
			f.Summary = fmt.Sprintf("%s: BGP not established with %s; the log of the node that chose %s: %s", f.Node, addr, addr, strings.TrimPrefix(f.Summary, "the node: "))
			for _, l := range s.Lines {
				f.Evidence = appendUnique(f.Evidence, l.String())
			}
			return f
		}
	}
	return f
}
