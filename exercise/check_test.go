package exercise

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/peerlab/peerlab/lab/topology"
)

// scriptedRunner answers Exec from the lab's pretend state: node2's
// bird.cfg, and whether BIRD's sessions are Established yet (after
// upAfter calls of birdc show protocols).
type scriptedRunner struct {
	cfg     string
	upAfter int32
	birdc   atomic.Int32
}

func (r *scriptedRunner) Up(context.Context, string) error                     { return nil }
func (r *scriptedRunner) Inject(context.Context, string, string, string) error { return nil }
func (r *scriptedRunner) Down(context.Context, string) error                   { return nil }
func (r *scriptedRunner) Exec(_ context.Context, _, node string, argv []string) (string, error) {
	if argv[0] == "birdc" {
		state := "start  00:00:01    Active"
		if r.birdc.Add(1) > r.upAfter {
			state = "up     00:00:01    Established"
		}
		return "BIRD 1.6.8 ready.\nname proto table state since info\nMesh_10_0_0_2 BGP master " + state + "\n", nil
	}
	if node == "node2" {
		return r.cfg, nil
	}
	return "", errors.New("unexpected command")
}

// twoNodes is an exercise over one BIRD session between node1 and node2
// whose check wants node2's bird.cfg to hold the right AS.
func twoNodes(t *testing.T) *Exercise {
	t.Helper()
	topo, err := topology.Parse("t.yaml", []byte("name: ex-t\nnodes:\n  node1: {kind: bird, address: 10.0.0.1, asn: 64512}\n  node2: {kind: bird, address: 10.0.0.2, asn: 64512}\npeerings:\n  - mesh: [node1, node2]\n"))
	if err != nil {
		t.Fatal(err)
	}
	return &Exercise{Name: "t", Topology: topo, Check: Check{
		Established: true,
		Files:       []FileCheck{{Node: "node2", Path: "etc/bird/bird.cfg", Contains: "neighbor 10.0.0.1 as 64512;", Why: "node2 still expects another AS"}},
	}}
}

func TestCheckSaysWhatIsWrongNotTheFix(t *testing.T) {
	e := twoNodes(t)
	r := &scriptedRunner{cfg: "neighbor 10.0.0.1 as 64513;", upAfter: 1 << 30}
	res := e.CheckLab(context.Background(), r)
	if res.OK || res.CauseFixed {
		t.Fatalf("broken lab: %+v", res)
	}
	all := strings.Join(res.Problems, "\n")
	if strings.Contains(all, "64512") || !strings.Contains(all, "node2 still expects another AS") {
		t.Errorf("problems give the fix away or miss the why:\n%s", all)
	}
	if len(res.Answers) != 1 || !strings.Contains(res.Answers[0], `"neighbor 10.0.0.1 as 64512;"`) {
		t.Errorf("answers %q, want the line the check looks for", res.Answers)
	}
}

func TestCheckSettledWaitsOnlyOnceTheCauseIsFixed(t *testing.T) {
	cases := []struct {
		name       string
		cfg        string
		upAfter    int32
		wantOK     bool
		wantWaited bool
	}{
		{"fixed, sessions come up a little later", "neighbor 10.0.0.1 as 64512;", 3, true, true},
		{"fixed, sessions already up", "neighbor 10.0.0.1 as 64512;", 0, true, false},
		{"not fixed: no wait", "neighbor 10.0.0.1 as 64513;", 3, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := twoNodes(t)
			r := &scriptedRunner{cfg: c.cfg, upAfter: c.upAfter}
			waited := false
			res := e.CheckSettled(context.Background(), r, 30*time.Second, func(Result) { waited = true })
			if res.OK != c.wantOK || waited != c.wantWaited {
				t.Errorf("OK %v waited %v, want %v %v (%v)", res.OK, waited, c.wantOK, c.wantWaited, res.Problems)
			}
		})
	}
}
