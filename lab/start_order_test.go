package lab

import (
	"slices"
	"testing"

	"github.com/peerlab/peerlab/lab/topology"
)

// TestStartOrder checks that the nodes with the most sessions start first
// and that equals keep topology order.
func TestStartOrder(t *testing.T) {
	for _, tc := range []struct {
		name     string
		order    []string
		sessions [][2]string
		want     []string
	}{
		{
			name:     "reflector named last",
			order:    []string{"c1", "c2", "c3", "rr"},
			sessions: [][2]string{{"rr", "c1"}, {"rr", "c2"}, {"rr", "c3"}},
			want:     []string{"rr", "c1", "c2", "c3"},
		},
		{
			name:     "full mesh keeps topology order",
			order:    []string{"a", "b", "c"},
			sessions: [][2]string{{"a", "b"}, {"a", "c"}, {"b", "c"}},
			want:     []string{"a", "b", "c"},
		},
		{
			name:     "two hubs, then the rest, then the idle",
			order:    []string{"idle", "m1", "m2", "w1", "w2"},
			sessions: [][2]string{{"m1", "m2"}, {"m1", "w1"}, {"m1", "w2"}, {"m2", "w1"}, {"m2", "w2"}},
			want:     []string{"m1", "m2", "w1", "w2", "idle"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			topo := &topology.Topology{}
			for _, s := range tc.sessions {
				topo.Sessions = append(topo.Sessions, &topology.Session{A: s[0], B: s[1]})
			}
			before := slices.Clone(tc.order)
			if got := startOrder(tc.order, topo); !slices.Equal(got, tc.want) {
				t.Errorf("startOrder = %v, want %v", got, tc.want)
			}
			if !slices.Equal(tc.order, before) {
				t.Errorf("startOrder changed its argument to %v", tc.order)
			}
		})
	}
}
