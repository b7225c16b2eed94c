package diagnose

import "fmt"

// ruleBGPPeerAS names a BGPPeer whose asNumber is not the AS its peer
// uses: against another Calico node's AS from the resources alone
// (medium; high with a Bad peer AS on that session), or, for a peer
// outside the cluster, when BIRD itself refused the peer's OPEN with
// NOTIFICATION 2/2 (high: BIRD's neighbor AS is the BGPPeer's). When the
// BGPPeer is node-specific and the Node has no AS of its own, the summary
// says the usual mistake: a node's own AS put on the BGPPeer.
func ruleBGPPeerAS(c *Cluster) []Finding {
	r := calicoResources(c)
	var out []Finding
	for _, bp := range r.peers {
		if bp.PeerIP == "" || bp.ASNumber == 0 {
			continue
		}
		peer := addrOnly(bp.PeerIP)
		for _, cn := range r.appliesTo(bp) {
			n := c.NodeNamed(cn.Name)
			lines, sent, quoted := badPeerAS(n, peer)
			var (
				conf    Confidence
				peerSay string
			)
			if target, ok := r.nodeByAddr(peer); ok {
				as := r.nodeAS(target)
				if as == bp.ASNumber {
					continue
				}
				conf, peerSay = Medium, fmt.Sprintf("Calico node %s runs in AS %d", target.Name, as)
				if len(lines) > 0 {
					conf = High
				}
			} else {
				// Only BIRD refusing the peer's OPEN implicates the
				// BGPPeer (BIRD's neighbor AS comes from it); the peer
				// refusing ours implicates the node's AS (as-mismatch).
				if !sent {
					continue
				}
				conf, peerSay = High, "BIRD refuses the peer's OPEN (Bad peer AS)"
				if quoted != 0 && quoted != bp.ASNumber {
					peerSay = fmt.Sprintf("the peer's OPEN says AS %d (BIRD: Bad peer AS)", quoted)
				}
			}
			summary := fmt.Sprintf("%s: BGPPeer %s sets asNumber %d for peer %s, but %s", cn.Name, bp.Name, bp.ASNumber, peer, peerSay)
			own := r.nodeAS(cn)
			if bp.Node != "" && cn.ASNumber == 0 {
				summary += fmt.Sprintf("; BGPPeer.spec.asNumber is the peer's AS, not %s's: %s stays in AS %d. If %d was meant as %s's own AS, it belongs on the Calico Node (spec.bgp.asNumber)",
					cn.Name, cn.Name, own, bp.ASNumber, cn.Name)
			}
			ev := append([]Line{bp.Line, bp.ASLine, cn.Line}, lines...)
			f := newFinding(CauseBGPPeerASMismatch, conf, cn.Name, peer, summary, ev)
			steps := []string{}
			if bp.Node != "" && cn.ASNumber == 0 {
				steps = append(steps, fmt.Sprintf("if %d is %s's own AS: kubectl patch nodes.crd.projectcalico.org %s --type merge -p '{\"spec\":{\"bgp\":{\"asNumber\":%d}}}'",
					bp.ASNumber, cn.Name, cn.Name, bp.ASNumber))
			}
			want := "<the peer's AS>"
			if quoted != 0 && quoted != bp.ASNumber {
				want = fmt.Sprint(quoted)
			} else if target, ok := r.nodeByAddr(peer); ok {
				want = fmt.Sprint(r.nodeAS(target))
			}
			steps = append(steps, fmt.Sprintf("calicoctl patch bgppeer %s -p '{\"spec\":{\"asNumber\":%s}}'", bp.Name, want))
			out = append(out, f.withSteps(steps...))
		}
	}
	return out
}
