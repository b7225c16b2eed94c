package diagnose

import (
	"fmt"
	"strings"
)

// vxlanManifest returns the lines of manifests saying Calico runs VXLAN
// without BIRD, and whether a probe still asks for BIRD.
func vxlanManifest(c *Cluster) (lines []Line, vxlan, birdProbe bool) {
	for _, m := range c.Manifests() {
		if m.Backend == "vxlan" || m.Backend == "none" {
			vxlan = true
			lines = append(lines, m.Lines...)
		}
		birdProbe = birdProbe || m.BirdReadyProbe
	}
	return lines, vxlan, birdProbe
}

// ruleVXLANOnlyBirdCheck: Calico's backend is vxlan (no BIRD) but the
// readiness probe runs -bird-ready, or readiness complains that the BIRD
// socket is missing.
func ruleVXLANOnlyBirdCheck(c *Cluster) []Finding {
	lines, vxlan, probe := vxlanManifest(c)
	if !vxlan {
		return nil
	}
	var out []Finding
	for _, n := range c.Nodes {
		why, down := n.BirdDown()
		if !down {
			continue
		}
		label := c.Label(n)
		out = append(out, newFinding(CauseVXLANOnlyBirdCheck, High, label, "",
			fmt.Sprintf("%s: Calico runs in VXLAN mode, so BIRD is not started, yet readiness asks BIRD", orNode(label)),
			concat(why, lines)))
	}
	if len(out) == 0 && probe {
		out = append(out, newFinding(CauseVXLANOnlyBirdCheck, High, "", "",
			"Calico runs in VXLAN mode (no BIRD) but calico-node's probe still runs -bird-ready", lines))
	}
	return out
}

// ruleBirdUnconfigured: a node's BIRD has no Mesh_/Node_/Global_ protocol
// at all; with datastore or API errors in its log, confd could not render
// the peers.
func ruleBirdUnconfigured(c *Cluster) []Finding {
	var out []Finding
	for _, n := range c.Nodes {
		why, ok := n.Unconfigured()
		if !ok {
			continue
		}
		errs := firstLines(concat(apiLines(n, func(APIError) bool { return true }), n.Obs.DatastoreErrors), 3)
		conf := Medium
		sum := fmt.Sprintf("%s: BIRD runs without any BGP peer (no Mesh_ protocols), so every other node waits for it", orNode(c.Label(n)))
		if len(errs) > 0 {
			conf = High
			sum = fmt.Sprintf("%s: BIRD runs without any BGP peer because calico-node cannot read the datastore", orNode(c.Label(n)))
		}
		f := newFinding(CausePeerBirdUnconfigured, conf, c.Label(n), "", sum, concat(why, errs))
		if len(errs) == 0 {
			f = f.withNotes(fmt.Sprintf("%s: the calico-node log would say why confd rendered no peers", orNode(c.Label(n))))
		}
		out = append(out, f)
	}
	return out
}

// rulePeerLacksProtocol: a node's session to a peer is down and the peer's
// own bird.cfg (or show protocols) has BGP peers, but none for this node.
func rulePeerLacksProtocol(c *Cluster) []Finding {
	var out []Finding
	for _, n := range c.Nodes {
		mine := c.Addrs(n)
		if len(mine) == 0 {
			continue
		}
		for _, s := range n.DownSessions() {
			pn := c.NodeByAddr(s.Peer)
			if pn == nil || pn == n {
				continue
			}
			if _, unconf := pn.Unconfigured(); unconf {
				continue
			}
			lacks, lines := lacksPeer(c, pn, mine)
			if !lacks {
				continue
			}
			label := c.Label(n)
			out = append(out, newFinding(CausePeerBirdUnconfigured, High, label, s.Peer,
				fmt.Sprintf("%s waits for %s, whose BIRD has no protocol for %s (stale confd config on the peer)", orNode(label), s.Peer, strings.Join(mine, "/")),
				concat(s.Lines, lines)).withSteps(fmt.Sprintf("restart calico-node on %s so confd re-renders its peers", c.Label(pn))))
		}
	}
	return out
}

// lacksPeer reports whether pn's config or protocol list is known and
// holds no session towards any of addrs.
func lacksPeer(c *Cluster, pn *Node, addrs []string) (bool, []Line) {
	ps := c.peerSetOf(pn)
	for _, a := range addrs {
		if ps.neighbors[a] {
			return false, nil
		}
	}
	if !ps.known {
		return false, nil
	}
	var lines []Line
	for _, cfg := range pn.Obs.BirdConfigs {
		lines = append(lines, Line{cfg.Source, fmt.Sprintf("bird.cfg has %d BGP peers, none of them %s", len(cfg.Peers), strings.Join(addrs, "/"))})
	}
	return true, lines
}

// ruleBirdDown: the node's own evidence says BIRD is not running (its
// control socket is missing), and nothing says Calico runs without BIRD.
func ruleBirdDown(c *Cluster) []Finding {
	if _, vxlan, _ := vxlanManifest(c); vxlan {
		return nil
	}
	haveManifest := len(c.Manifests()) > 0
	var out []Finding
	for _, n := range c.Nodes {
		why, down := n.BirdDown()
		if !down {
			continue
		}
		label := c.Label(n)
		if confd := confdFailure(n); len(confd) > 0 {
			// BIRD is down because confd gave it no configuration: the
			// cause lies in calico-node's startup, which the catalogue
			// does not name; BIRD being down is what its peers see.
			out = append(out, newFinding(CausePeerBirdDown, Low, label, "",
				fmt.Sprintf("%s: BIRD is not running because confd did not give it a configuration; why confd failed is outside what the evidence settles", orNode(label)),
				concat(why, confd)).withNotes(
				fmt.Sprintf("%s: the whole calico-node log (confd's first errors) would say why confd did not render bird.cfg", orNode(label))))
			continue
		}
		conf := Medium
		if len(n.Obs.Status) > 0 || haveManifest {
			conf = High
		}
		f := newFinding(CausePeerBirdDown, conf, label, "",
			fmt.Sprintf("%s: BIRD is not running (its control socket is missing); its peers see it as peer-bird-down", orNode(label)), why)
		out = append(out, f)
		if !haveManifest {
			out = append(out, newFinding(CauseVXLANOnlyBirdCheck, Low, label, "",
				fmt.Sprintf("%s: if Calico runs in VXLAN mode, BIRD is not meant to run and only the readiness probe is wrong", orNode(label)), why).withNotes(
				"calico_backend (kubectl -n kube-system get cm calico-config -o yaml) would tell a stopped BIRD from a VXLAN-only install"))
		}
	}
	return out
}

// confdFailure returns the lines saying confd did not give BIRD a
// configuration on n: BIRD could not open bird.cfg, or confd logged
// errors.
func confdFailure(n *Node) []Line {
	var out []Line
	for _, bl := range n.Obs.BirdLog {
		if bl.NoConfig {
			out = append(out, bl.Line)
			break
		}
	}
	return firstLines(append(out, n.Obs.ConfdErrors...), 3)
}
