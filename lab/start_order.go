package lab

import (
	"slices"

	"github.com/peerlab/peerlab/lab/topology"
)

// startOrder is the order a lab hands its nodes to the start workers:
// the nodes with the most sessions first, topology order among equals.
//
// A hub (a route reflector, a cluster's masters) then listens before the
// nodes that dial it. Topology order is by name, and a reflector named
// "rr" among clients "c1"…"c999" used to start last: every client's first
// connection attempt (GoBGP makes it 1.5 to 2 s after the peer is added)
// found nothing listening and waited a whole retry interval more.
func startOrder(order []string, topo *topology.Topology) []string {
	sessions := make(map[string]int, len(order))
	for _, s := range topo.Sessions {
		sessions[s.A]++
		if s.B != s.A {
			sessions[s.B]++
		}
	}
	out := slices.Clone(order)
	slices.SortStableFunc(out, func(a, b string) int { return sessions[b] - sessions[a] })
	return out
}
