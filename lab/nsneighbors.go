package lab

import "github.com/peerlab/peerlab/lab/topology"

// sessionPeers lists, for every node of topo, the nodes it has a BGP
// session with, in session order. In namespace mode every session runs
// between the nodes' lab addresses on the lab bridge, so these are the
// nodes a large lab gives each node static neighbour entries for
// (internal/netns, NodeSpec.Peers): no ARP, and no host-wide neighbour
// table to overflow, however many nodes share the bridge.
func sessionPeers(topo *topology.Topology) map[string][]string {
	out := make(map[string][]string, len(topo.Nodes))
	for _, s := range topo.Sessions {
		out[s.A] = append(out[s.A], s.B)
		out[s.B] = append(out[s.B], s.A)
	}
	return out
}
