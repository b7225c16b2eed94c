package lab

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/peerlab/peerlab/lab/topology"
)

// TestShippedTopologiesInNamespaces plays every shipped topology in
// namespace mode: gobgp nodes as agents in their namespaces, BIRD 1.6 and
// BIRD 2 nodes as real daemons, every expectation of each file checked.
// The subtests run one after the other: they share PEERLAB_AGENT_EXE.
func TestShippedTopologiesInNamespaces(t *testing.T) {
	requireRoot(t)
	t.Setenv(AgentExeEnv, builtPeerlab(t))
	files, err := filepath.Glob("../topologies/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no shipped topologies found: %v", err)
	}
	for _, file := range files {
		base := strings.TrimSuffix(filepath.Base(file), ".yaml")
		if base == "kubespray-nginx-proxy-down" {
			// Its diagnosis expectation needs the live diagnoser, which
			// this package cannot import: TestKubesprayScenario plays it.
			continue
		}
		t.Run(base, func(t *testing.T) {
			topo, err := topology.Load(file)
			if err != nil {
				t.Fatal(err)
			}
			topo.Name = "ns-" + base
			stateDir, err := os.MkdirTemp("/tmp", "plns")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.RemoveAll(stateDir) })
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			l, err := Up(ctx, topo, Options{Logger: zaptest.NewLogger(t), StateDir: stateDir, Mode: ModeNamespace})
			if err != nil {
				t.Fatalf("up: %v", err)
			}
			defer func() {
				if err := l.Down(); err != nil {
					t.Errorf("down: %v", err)
				}
				if left, _ := filepath.Glob("/run/netns/plab-" + topo.Name + "*"); len(left) > 0 {
					t.Errorf("namespaces left after down: %v", left)
				}
			}()
			results := l.Check(ctx, CheckOptions{})
			if len(results) == 0 {
				t.Fatal("no expectations")
			}
			for _, r := range results {
				if !r.OK {
					t.Errorf("expectation failed: %s: %s", r.Description, r.Detail)
				}
			}
		})
	}
}
