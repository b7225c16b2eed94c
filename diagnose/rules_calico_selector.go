package diagnose

import (
	"fmt"
	"sort"
	"strings"
)

// rulePeerSelectorNone names a BGPPeer whose peerSelector matches none of
// the Calico nodes: medium from the resources, high when the mesh is off
// and the BIRD of a node the BGPPeer configures has no BGP protocol.
func rulePeerSelectorNone(c *Cluster) []Finding {
	r := calicoResources(c)
	if len(r.nodes) == 0 {
		return nil
	}
	meshOff := false
	if d, ok := r.config("default"); ok && d.MeshEnabled != nil && !*d.MeshEnabled {
		meshOff = true
	}
	var out []Finding
	for _, bp := range r.peers {
		if bp.PeerSelector == "" {
			continue
		}
		sel, ok := r.selected(bp.PeerSelector)
		if !ok || len(sel) > 0 {
			continue
		}
		conf, node := Medium, bp.Node
		for _, cn := range r.appliesTo(bp) {
			if seen, any := hasBGPProtocol(c.NodeNamed(cn.Name)); meshOff && seen && !any {
				conf, node = High, cn.Name
				break
			}
		}
		summary := fmt.Sprintf("BGPPeer %s: peerSelector %q matches none of the %d Calico nodes (their labels: %s), so it makes no session",
			bp.Name, bp.PeerSelector, len(r.nodes), labelSummary(r.nodes))
		f := newFinding(CausePeerSelectorMatchesNone, conf, node, "", summary, []Line{bp.Line, bp.SelectorLine})
		out = append(out, f.withSteps(fmt.Sprintf("calicoctl get bgppeer %s -o yaml; kubectl get nodes --show-labels: fix the selector or label the route reflectors", bp.Name)))
	}
	return out
}

// labelSummary lists the label keys=values the nodes carry, other than
// the kubernetes.io ones every node has.
func labelSummary(nodes []CalicoNodeRes) string {
	set := map[string]bool{}
	for _, n := range nodes {
		for k, v := range n.Labels {
			if !strings.HasPrefix(k, "kubernetes.io/") && !strings.HasPrefix(k, "beta.kubernetes.io/") {
				set[k+"="+v] = true
			}
		}
	}
	if len(set) == 0 {
		return "only kubernetes.io labels"
	}
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}
