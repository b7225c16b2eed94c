package lab

import (
	"net/netip"
	"testing"

	"github.com/peerlab/peerlab/lab/topology"
)

func TestPassiveEnd(t *testing.T) {
	topo := &topology.Topology{Nodes: []*topology.Node{
		{Name: "a", Kind: topology.KindGoBGP, Address: netip.MustParseAddr("10.0.0.9")},
		{Name: "b", Kind: topology.KindGoBGP, Address: netip.MustParseAddr("10.0.0.10")},
		{Name: "c", Kind: topology.KindBIRD, Address: netip.MustParseAddr("10.0.0.1")},
	}}
	for _, tc := range []struct {
		name string
		s    topology.Session
		want string
	}{
		{"lower address waits (numeric, not string, order)", topology.Session{A: "b", B: "a"}, "a"},
		{"explicit passive wins", topology.Session{A: "a", B: "b", Passive: "b"}, "b"},
		{"not both gobgp: both connect", topology.Session{A: "a", B: "c"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := passiveEnd(&tc.s, topo); got != tc.want {
				t.Errorf("passiveEnd = %q, want %q", got, tc.want)
			}
		})
	}
}
