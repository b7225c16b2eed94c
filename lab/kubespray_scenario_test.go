package lab_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/peerlab/peerlab/lab"
	"github.com/peerlab/peerlab/lab/livediag"
	"github.com/peerlab/peerlab/lab/topology"
)

// TestKubesprayScenario plays topologies/kubespray-nginx-proxy-down.yaml
// as `peerlab run` does, with the live diagnoser: every expectation of the
// story holds (readiness, state and diagnosis after the fault, the mesh
// back for 10 s after the heal), and readiness and diagnosis
// expectations added here that the story contradicts fail at the end of
// their windows, the diagnosis with its findings in the verdict.
func TestKubesprayScenario(t *testing.T) {
	lab.RolesRequireForTest(t)
	topo, err := topology.Load(filepath.Join("..", "topologies", "kubespray-nginx-proxy-down.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	topo.Name = fmt.Sprintf("kss%d", os.Getpid()%100000)
	shipped := len(topo.Expectations)
	after := topology.Anchor{Fault: "proxy-down"}
	topo.Expectations = append(topo.Expectations,
		// worker2's message names worker1 (10.0.0.2), not master.
		&topology.Expectation{Kind: topology.ExpectReadiness, Node: "worker2", Ready: false,
			Message: "BGP not established with 10.0.0.1", After: after, Within: 5 * time.Second, Line: 1001},
		&topology.Expectation{Kind: topology.ExpectDiagnosis, Node: "master", Cause: "tcp179-dropped",
			After: after, Within: 3 * time.Second, Line: 1002},
	)
	stateDir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	l, err := lab.Up(ctx, topo, lab.Options{Logger: zaptest.NewLogger(t), StateDir: stateDir, Mode: lab.ModeNamespace})
	if err != nil {
		t.Fatalf("up: %v", err)
	}
	defer func() {
		if err := l.Down(); err != nil {
			t.Errorf("down: %v", err)
		}
	}()
	results := l.Check(ctx, lab.CheckOptions{Diagnoser: livediag.New(stateDir)})
	r := l.Report(ctx, results)
	var buf strings.Builder
	_ = r.WriteTable(&buf)
	t.Logf("report:\n%s", buf.String())

	for _, res := range results[:shipped] {
		if !res.OK {
			t.Errorf("shipped expectation failed: %s: %s (%s)", res.Description, res.Detail, res.Basis)
		}
	}
	var inject int64 = -1
	for _, f := range r.Faults {
		if f.Label == "proxy-down" && f.Action == "inject" {
			inject = f.AtMS
		}
	}
	for _, res := range results[shipped:] {
		if res.OK || res.Basis != lab.BasisWindowEnded || res.WindowFromMS != inject || res.AfterMS < res.WindowToMS {
			t.Errorf("added expectation %s: ok=%t on %q, window %d..%d decided at %d: want a failure at the end of a window from the injection at %d",
				res.Description, res.OK, res.Basis, res.WindowFromMS, res.WindowToMS, res.AfterMS, inject)
		}
	}
	diag := results[len(results)-1]
	if len(diag.Findings) == 0 || diag.Findings[0].Cause != "apiserver-proxy-down" {
		t.Errorf("failed diagnosis verdict findings %+v, want apiserver-proxy-down first", diag.Findings)
	}
	if !strings.Contains(diag.Detail, "top finding apiserver-proxy-down") {
		t.Errorf("failed diagnosis detail %q does not say what it found", diag.Detail)
	}
}
