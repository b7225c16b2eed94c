package diagnose

import (
	"fmt"
	"strings"
)

// ruleListenPort names a BGPConfiguration node.<name> whose listenPort
// differs from the cluster's (default's, else 179): medium from the
// resources, high when another node's BIRD shows its session with that
// node not Established.
func ruleListenPort(c *Cluster) []Finding {
	r := calicoResources(c)
	port := uint32(179)
	if d, ok := r.config("default"); ok && d.ListenPort != 0 {
		port = d.ListenPort
	}
	var out []Finding
	for _, bc := range r.configs {
		name, ok := strings.CutPrefix(bc.Name, "node.")
		if !ok || bc.ListenPort == 0 || bc.ListenPort == port {
			continue
		}
		conf, peer := Medium, ""
		var ev []Line
		for _, cn := range r.nodes {
			if cn.Name != name {
				continue
			}
			peer = addrOnly(cn.IPv4Address)
			for _, n := range c.Nodes {
				for _, p := range n.Obs.Protocols {
					if peer != "" && p.NeighborAddress == peer && p.BGPState != "" && p.BGPState != "Established" {
						conf = High
						ev = append(ev, p.Line)
					}
				}
			}
		}
		summary := fmt.Sprintf("%s: BGPConfiguration %s sets listenPort %d while the cluster's BGP port is %d: every peer must dial %s on %d and its BIRD must listen there, or their sessions fail",
			name, bc.Name, bc.ListenPort, port, name, bc.ListenPort)
		f := newFinding(CauseListenPortMismatch, conf, name, "", summary, append([]Line{bc.Line, bc.PortLine}, ev...))
		out = append(out, f.withSteps(fmt.Sprintf("calicoctl patch bgpconfiguration %s -p '{\"spec\":{\"listenPort\":%d}}'", bc.Name, port)))
	}
	return out
}
