package diagnose

import "fmt"

// ruleMeshDisabled names a default BGPConfiguration with
// nodeToNodeMeshEnabled: false for every Calico node no BGPPeer gives a
// peer (none applies to it, none peers with it): medium from the
// resources, high when that node's BIRD shows no BGP protocol either.
func ruleMeshDisabled(c *Cluster) []Finding {
	r := calicoResources(c)
	d, ok := r.config("default")
	if !ok || d.MeshEnabled == nil || *d.MeshEnabled {
		return nil
	}
	var out []Finding
	for _, cn := range r.nodes {
		if r.hasPeering(cn) {
			continue
		}
		conf := Medium
		var notes []string
		if len(r.peers) == 0 {
			notes = append(notes, "no BGPPeer is in the evidence: an empty list, or BGPPeers that were not read")
		}
		summary := fmt.Sprintf("%s: the default BGPConfiguration turns the node-to-node mesh off (nodeToNodeMeshEnabled: false) and no BGPPeer gives %s a peer, so it has no BGP session",
			cn.Name, cn.Name)
		if seen, any := hasBGPProtocol(c.NodeNamed(cn.Name)); seen && !any {
			conf = High
			summary += "; its BIRD has no BGP protocol either"
		}
		f := newFinding(CauseMeshDisabledNoPeers, conf, cn.Name, "", summary, []Line{d.Line, d.MeshLine, cn.Line})
		out = append(out, f.withNotes(notes...).withSteps(
			"kubectl patch bgpconfigurations.crd.projectcalico.org default --type merge -p '{\"spec\":{\"nodeToNodeMeshEnabled\":true}}'"))
	}
	return out
}

// hasPeering reports whether some BGPPeer configures cn or names it as
// its peer (by address or peerSelector).
func (r calicoRes) hasPeering(cn CalicoNodeRes) bool {
	for _, bp := range r.peers {
		for _, n := range r.appliesTo(bp) {
			if n.Name == cn.Name {
				return true
			}
		}
		if bp.PeerIP != "" && addrOnly(bp.PeerIP) == addrOnly(cn.IPv4Address) {
			return true
		}
		if bp.PeerSelector != "" {
			sel, _ := r.selected(bp.PeerSelector)
			for _, n := range sel {
				if n.Name == cn.Name {
					return true
				}
			}
		}
	}
	return false
}
