package diagnose

import (
	"fmt"
	"strings"
)

// ruleRRCluster names route reflector clusters set on the wrong nodes:
// when some node carries routeReflectorClusterID, the nodes a BGPPeer's
// peerSelector picks (its reflectors) must carry it and the nodes it
// configures (its clients) must not. Medium: from the resources alone.
func ruleRRCluster(c *Cluster) []Finding {
	r := calicoResources(c)
	anyRR := false
	for _, n := range r.nodes {
		anyRR = anyRR || n.ClusterID != ""
	}
	if !anyRR {
		return nil
	}
	var out []Finding
	for _, bp := range r.peers {
		if bp.PeerSelector == "" {
			continue
		}
		targets, ok := r.selected(bp.PeerSelector)
		if !ok || len(targets) == 0 {
			continue
		}
		isTarget := map[string]bool{}
		var missing []string
		ev := []Line{bp.Line, bp.SelectorLine}
		for _, t := range targets {
			isTarget[t.Name] = true
			if t.ClusterID == "" {
				missing = append(missing, t.Name)
				ev = append(ev, t.Line)
			}
		}
		var extra []string
		for _, s := range r.appliesTo(bp) {
			if !isTarget[s.Name] && s.ClusterID != "" {
				extra = append(extra, s.Name)
				ev = append(ev, s.Line, s.ClusterIDLine)
			}
		}
		if len(missing) == 0 && len(extra) == 0 {
			continue
		}
		var parts []string
		if len(missing) > 0 {
			parts = append(parts, fmt.Sprintf("the reflectors it picks (%s) have no routeReflectorClusterID", strings.Join(missing, ", ")))
		}
		if len(extra) > 0 {
			parts = append(parts, fmt.Sprintf("its clients %s carry a routeReflectorClusterID", strings.Join(extra, ", ")))
		}
		node := ""
		if len(extra) > 0 {
			node = extra[0]
		} else {
			node = missing[0]
		}
		summary := fmt.Sprintf("BGPPeer %s (peerSelector %q): %s", bp.Name, bp.PeerSelector, strings.Join(parts, "; "))
		out = append(out, newFinding(CauseRRClusterMisplaced, Medium, node, "", summary, ev))
	}
	return out
}
