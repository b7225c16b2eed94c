package lab

import (
	"testing"
	"time"

	"github.com/peerlab/peerlab/lab/topology"
)

// TestJudge feeds the window logic samples and checks when and on what
// each kind of expectation is decided.
func TestJudge(t *testing.T) {
	s := time.Second
	type sample struct {
		at   time.Duration
		seen bool
	}
	tests := []struct {
		name     string
		kind     topology.ExpectKind
		start    time.Duration
		within   time.Duration
		hold     time.Duration
		samples  []sample
		doneAt   time.Duration // -1: undecided after the samples
		ok       bool
		basis    string
		heldFrom time.Duration
	}{
		{"positive seen", topology.ExpectEstablished, 0, 5 * s, 0,
			[]sample{{1 * s, false}, {2 * s, true}}, 2 * s, true, BasisSeen, 0},
		{"positive window ends", topology.ExpectState, 2 * s, 3 * s, 0,
			[]sample{{3 * s, false}, {5 * s, false}}, 5 * s, false, BasisWindowEnded, 0},
		{"before the window nothing counts", topology.ExpectReadiness, 4 * s, 3 * s, 0,
			[]sample{{1 * s, true}, {3 * s, true}}, -1, false, "", 0},
		{"late sighting after the window fails", topology.ExpectRoute, 0, 2 * s, 0,
			[]sample{{2500 * time.Millisecond, true}}, 2500 * time.Millisecond, false, BasisWindowEnded, 0},
		{"negative seen fails", topology.ExpectNotEstablished, 1 * s, 5 * s, 0,
			[]sample{{2 * s, false}, {3 * s, true}}, 3 * s, false, BasisSeen, 0},
		{"negative holds at window end", topology.ExpectNoRoute, 1 * s, 2 * s, 0,
			[]sample{{2 * s, false}, {3 * s, true}}, 3 * s, true, BasisWindowEnded, 0},
		{"for holds", topology.ExpectEstablished, 0, 5 * s, 3 * s,
			[]sample{{1 * s, false}, {2 * s, true}, {4 * s, true}, {5 * s, true}}, 5 * s, true, BasisHeld, 2 * s},
		{"for breaks on a flap", topology.ExpectEstablished, 0, 5 * s, 10 * s,
			[]sample{{2 * s, true}, {6 * s, true}, {7 * s, false}, {8 * s, true}}, 7 * s, false, BasisBroke, 2 * s},
		{"for may start holding until the window ends", topology.ExpectState, 0, 5 * s, 2 * s,
			[]sample{{5 * s, true}, {7 * s, true}}, 7 * s, true, BasisHeld, 5 * s},
		{"for never started", topology.ExpectEstablished, 0, 5 * s, 2 * s,
			[]sample{{3 * s, false}, {6 * s, true}}, 6 * s, false, BasisWindowEnded, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := newJudge(&topology.Expectation{Kind: tt.kind, Within: tt.within, For: tt.hold}, tt.start)
			doneAt := time.Duration(-1)
			var ok bool
			var basis string
			for _, smp := range tt.samples {
				done, o, b := j.step(smp.at, smp.seen)
				if done {
					doneAt, ok, basis = smp.at, o, b
					break
				}
			}
			if doneAt != tt.doneAt || ok != tt.ok || basis != tt.basis {
				t.Errorf("decided at %v ok=%t on %q, want at %v ok=%t on %q", doneAt, ok, basis, tt.doneAt, tt.ok, tt.basis)
			}
			if tt.hold > 0 && j.holding && j.heldFrom != tt.heldFrom {
				t.Errorf("held from %v, want %v", j.heldFrom, tt.heldFrom)
			}
		})
	}
}
