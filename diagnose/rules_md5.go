package diagnose

import (
	"fmt"
	"slices"
)

// ruleMD5Kernel: the kernel drops segments whose TCP MD5 signature is
// wrong, missing or unexpected; BIRD itself only sees silence.
func ruleMD5Kernel(c *Cluster) []Finding {
	var out []Finding
	for _, n := range c.Nodes {
		label := c.Label(n)
		mine := c.Addrs(n)
		for _, k := range n.Obs.Kernel {
			peer := k.Src
			for _, a := range mine {
				if a == k.Src {
					peer = k.Dst
				}
			}
			what := map[string]string{
				"mismatch":     "carry a wrong MD5 signature",
				"failed":       "carry a wrong MD5 signature",
				"not-expected": "carry an MD5 signature this node does not expect (password only on the peer)",
				"missing":      "lack the MD5 signature this node expects (password only on this node)",
			}[k.Kind]
			out = append(out, newFinding(CauseMD5Mismatch, High, label, peer,
				fmt.Sprintf("%s: the kernel drops BGP segments from %s that %s", orNode(label), peer, what), []Line{k.Line}))
		}
	}
	return out
}

// ruleMD5Config: the two ends' bird.cfg disagree on the password.
func ruleMD5Config(c *Cluster) []Finding {
	var out []Finding
	for _, n := range c.Nodes {
		mine := c.Addrs(n)
		for _, cfg := range n.Obs.BirdConfigs {
			for _, p := range cfg.Peers {
				pn := c.NodeByAddr(p.Neighbor)
				if pn == nil || pn == n {
					continue
				}
				for _, ref := range peersTowards(c, pn, mine) {
					pp := pn.Obs.BirdConfigs[ref.cfg].Peers[ref.peer]
					if pp.HasPassword == p.HasPassword && pp.Password == p.Password {
						continue
					}
					label := c.Label(n)
					why := "different passwords"
					if pp.HasPassword != p.HasPassword {
						why = "a password on one end only"
					}
					out = append(out, newFinding(CauseMD5Mismatch, High, label, p.Neighbor,
						fmt.Sprintf("%s and %s have %s in bird.cfg", orNode(label), p.Neighbor, why),
						[]Line{p.Line, pp.Line}))
				}
			}
		}
	}
	return out
}

// ruleMD5Unsupported: BIRD could not set TCP_MD5SIG on its socket.
func ruleMD5Unsupported(c *Cluster) []Finding {
	var out []Finding
	for _, n := range c.Nodes {
		label := c.Label(n)
		for _, bl := range n.Obs.BirdLog {
			if containsFold(bl.Line.Text, "does not support TCP MD5") {
				out = append(out, newFinding(CauseMD5Unsupported, High, label, peerFromProtocolName(bl.Protocol),
					fmt.Sprintf("%s: BIRD says the kernel does not support TCP MD5 signatures", orNode(label)), []Line{bl.Line}))
			}
		}
		for _, ev := range n.errorEvents() {
			if containsFold(ev.Text, "Kernel MD5 auth failed") {
				out = append(out, newFinding(CauseMD5Unsupported, Medium, label, ev.Peer,
					fmt.Sprintf("%s: BIRD could not enable TCP MD5 on the socket to %s (kernel without TCP_MD5SIG?)", orNode(label), ev.Peer), ev.Lines))
			}
		}
	}
	return out
}

// peersTowards returns pn's bird.cfg peers whose neighbor is one of
// addrs, in config order.
func peersTowards(c *Cluster, pn *Node, addrs []string) []cfgPeerRef {
	ps := c.peerSetOf(pn)
	var out []cfgPeerRef
	for _, a := range addrs {
		out = append(out, ps.cfgPeers[a]...)
	}
	slices.SortFunc(out, func(x, y cfgPeerRef) int {
		if x.cfg != y.cfg {
			return x.cfg - y.cfg
		}
		return x.peer - y.peer
	})
	return slices.Compact(out)
}

func containsStr(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
