package diagnose

import (
	"fmt"
	"net/netip"
	"strings"
)

// bridgePrefixes are interface name prefixes of container bridges,
// overlays and tunnels: never the node's real address.
var bridgePrefixes = []string{"docker", "br-", "cni", "cali", "flannel", "vxlan", "kube-ipvs", "tunl", "virbr", "weave", "podman", "cilium",
	"veth", "lxc", "nodelocaldns", "kube-bridge", "kube-dummy", "dummy", "wireguard", "wg", "egress.calico", "genev", "kube-ovn", "ovn-k8s", "antrea", "nerdctl"}

// dockerDefault is Docker's default bridge network.
var dockerDefault = netip.MustParsePrefix("172.17.0.0/16")

// bridgeInterface reports whether name is a container bridge or overlay.
func bridgeInterface(name string) bool {
	for _, p := range bridgePrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// rulePort179InUse: another process holds port 179, or BIRD cannot open
// its listening socket.
func rulePort179InUse(c *Cluster) []Finding {
	var out []Finding
	for _, n := range c.Nodes {
		if n.isRouter() {
			continue // its own speaker holds port 179: no BIRD to crowd out
		}
		label := c.Label(n)
		var other, lines []Line
		birdListens := false
		for _, l := range n.listenersOn(179) {
			if l.Process != "" && !isBird(l.Process) {
				other = append(other, l.Line)
			} else if isBird(l.Process) {
				birdListens = true
			}
		}
		for _, bl := range n.Obs.BirdLog {
			if containsFold(bl.Message, "Address already in use") || containsFold(bl.Message, "Cannot open listening socket") {
				lines = append(lines, bl.Line)
			}
		}
		noSocket := false
		for _, ev := range n.errorEvents() {
			if containsFold(ev.Text, "No listening socket") {
				lines = append(lines, ev.Lines...)
				noSocket = true
			}
		}
		switch {
		case len(other) > 0 && !birdListens:
			out = append(out, newFinding(CausePort179InUse, High, label, "",
				fmt.Sprintf("%s: port 179 is held by another process, so BIRD cannot listen", orNode(label)), concat(other, lines)))
		case len(lines) > 0 && !noSocket:
			out = append(out, newFinding(CausePort179InUse, High, label, "",
				fmt.Sprintf("%s: BIRD cannot bind port 179: address already in use", orNode(label)), lines))
		case len(lines) > 0:
			out = append(out, newFinding(CausePort179InUse, Medium, label, "",
				fmt.Sprintf("%s: BIRD has no listening socket, most often because port 179 is taken", orNode(label)), lines).withNotes(
				fmt.Sprintf("%s: ss -ltnp would show who holds port 179", orNode(label))))
		}
	}
	return out
}

// ruleSourceIPMissing: bird.cfg's source address is on no interface, or
// BIRD fails to bind it ("Cannot assign requested address").
func ruleSourceIPMissing(c *Cluster) []Finding {
	var out []Finding
	for _, n := range c.Nodes {
		label := c.Label(n)
		reported := map[string]bool{}
		if n.Obs.AddrsSeen {
			for _, cfg := range n.Obs.BirdConfigs {
				for _, p := range cfg.Peers {
					if p.Source == "" || reported[p.Source] {
						continue
					}
					if _, ok := n.HasAddr(p.Source); ok {
						continue
					}
					reported[p.Source] = true
					lines := []Line{p.SourceLine}
					for _, it := range n.Obs.Interfaces {
						lines = append(lines, it.Lines...)
					}
					out = append(out, newFinding(CauseSourceIPMissing, High, label, "",
						fmt.Sprintf("%s: bird.cfg uses source address %s, which no interface has", orNode(label), p.Source), firstLines(lines, 8)))
				}
			}
		}
		var (
			errs  []Line
			peers []string
		)
		for _, ev := range n.errorEvents() {
			if addrNotAvailable(ev.Text) {
				errs = append(errs, ev.Lines...)
				peers = appendUnique(peers, ev.Peer)
			}
		}
		for _, bl := range n.Obs.BirdLog {
			if bl.Protocol == "" && addrNotAvailable(bl.Message) {
				errs = append(errs, bl.Line)
			}
		}
		if len(errs) > 0 && len(reported) == 0 {
			conf := Medium
			peer := ""
			if len(peers) == 1 {
				peer = peers[0] // the only session that shows it
			}
			f := newFinding(CauseSourceIPMissing, conf, label, peer,
				fmt.Sprintf("%s: BIRD cannot bind its source address (EADDRNOTAVAIL: the address is on no interface of the node)", orNode(label)), firstLines(errs, 4))
			if !n.Obs.AddrsSeen {
				f = f.withNotes(fmt.Sprintf("%s: ip -4 addr would confirm the source address is missing", orNode(label)))
			}
			out = append(out, f)
		}
	}
	return out
}

// ruleWrongIPAutodetect: the address Calico gave the node (bird.cfg router
// id / source address) is a container bridge's, or differs from the node's
// Kubernetes address.
func ruleWrongIPAutodetect(c *Cluster) []Finding {
	var out []Finding
	for _, n := range c.Nodes {
		addr := n.BGPAddr()
		a, ok := parseAddr(addr)
		if !ok {
			continue
		}
		label := c.Label(n)
		var lines []Line
		for _, cfg := range n.Obs.BirdConfigs {
			lines = append(lines, Line{cfg.Source, "router id " + cfg.RouterID + ";"})
		}
		if it, ok := n.HasAddr(addr); ok && bridgeInterface(it.Name) {
			out = append(out, newFinding(CauseWrongIPAutodetect, High, label, "",
				fmt.Sprintf("%s: BIRD uses %s, the address of %s, a container bridge, not the node's network", orNode(label), addr, it.Name),
				concat(lines, it.Lines)))
			continue
		}
		if dockerDefault.Contains(a) {
			out = append(out, newFinding(CauseWrongIPAutodetect, High, label, "",
				fmt.Sprintf("%s: BIRD uses %s, in Docker's default bridge network 172.17.0.0/16", orNode(label), addr), lines))
			continue
		}
		if k, ok := c.kubeNode(n); ok && k.InternalIP != addr && k.ExternalIP != addr {
			out = append(out, newFinding(CauseWrongIPAutodetect, Medium, label, "",
				fmt.Sprintf("%s: BIRD uses %s but Kubernetes knows the node as %s", orNode(label), addr, k.InternalIP),
				append(lines, k.Line)).withNotes(
				fmt.Sprintf("%s: a deliberate second network for BGP would also look like this; calicoctl get node %s -o yaml shows what Calico chose", orNode(label), k.Name)))
		}
	}
	return out
}

// ruleUnexpectedConnect: a peer's BIRD logs "Unexpected connect from
// unknown address X": connections arrive from an address no protocol
// names, most often because node traffic is source-NATed; a wrong
// autodetected address is the other candidate.
func ruleUnexpectedConnect(c *Cluster) []Finding {
	var out []Finding
	for _, n := range c.Nodes {
		label := c.Label(n)
		for _, bl := range n.Obs.BirdLog {
			x := bl.UnknownAddress
			if x == "" {
				continue
			}
			bridge := false
			if a, ok := parseAddr(x); ok && dockerDefault.Contains(a) {
				bridge = true
			}
			if c.onBridge(x) {
				bridge = true
			}
			snat := newFinding(CauseSNATNodeTraffic, Medium, label, x,
				fmt.Sprintf("%s: BIRD got a BGP connection from %s, an address no peer has: the connecting node's traffic is source-NATed", orNode(label), x), []Line{bl.Line})
			wrong := newFinding(CauseWrongIPAutodetect, Low, label, x,
				fmt.Sprintf("%s: or the connecting node uses %s because calico-node autodetected the wrong interface", orNode(label), x), []Line{bl.Line})
			if bridge {
				wrong.Confidence = Medium
				wrong.Summary = fmt.Sprintf("%s: BIRD got a BGP connection from %s, a container bridge address: either calico-node picked the bridge's address or node traffic is masqueraded to it; cannot tell which from this log", orNode(label), x)
			}
			note := fmt.Sprintf("%s: the connecting node's bird.cfg (source address) and iptables -t nat -S POSTROUTING would tell snat-node-traffic from wrong-ip-autodetect", orNode(label))
			out = append(out, snat.withNotes(note), wrong)
		}
	}
	return out
}

// ruleStaleNode: a mesh peer is down and its address belongs to no node
// of `kubectl get nodes`.
func ruleStaleNode(c *Cluster) []Finding {
	kn := c.KubeNodes()
	if len(kn) == 0 {
		return nil
	}
	var lines []Line
	known := map[string]bool{}
	for _, k := range kn {
		known[k.InternalIP], known[k.ExternalIP] = true, true
		lines = append(lines, k.Line)
	}
	var out []Finding
	for _, n := range c.Nodes {
		label := c.Label(n)
		for _, s := range n.DownSessions() {
			if !s.Mesh || known[s.Peer] || c.NodeByAddr(s.Peer) != nil {
				continue
			}
			out = append(out, newFinding(CauseStaleNode, High, label, s.Peer,
				fmt.Sprintf("%s: mesh peer %s is no node of the cluster: a Calico node resource outlived its Kubernetes node", orNode(label), s.Peer),
				concat(s.Lines, firstLines(lines, 6))).withSteps(
				fmt.Sprintf("calicoctl get nodes -o wide | grep %s; then calicoctl delete node <that name>", s.Peer)))
		}
	}
	return out
}

// addrNotAvailable reports whether an error text is EADDRNOTAVAIL, as
// glibc ("Cannot assign requested address") or musl ("Address not
// available", BIRD in older calico/node images) prints it.
func addrNotAvailable(text string) bool {
	return containsFold(text, "Cannot assign requested address") || containsFold(text, "Address not available")
}
