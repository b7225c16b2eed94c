package lab

import (
	"context"
	"fmt"
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

// TestRelativeStateDir: a state folder given as a relative path (as
// `--state-dir ./state` gives it) works in namespace mode: node binds,
// agent sockets and logs are named from the lab's absolute folder, not
// resolved again from inside a node's own working folder.
func TestRelativeStateDir(t *testing.T) {
	requireRoot(t)
	t.Setenv(AgentExeEnv, builtPeerlab(t))
	dir, err := os.MkdirTemp("/tmp", "plrel")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	t.Chdir(dir)
	name := fmt.Sprintf("rel%d", os.Getpid()%100000)
	topo, err := topology.Parse(name+".yaml", []byte(fmt.Sprintf(`name: %s
defaults: {asn: 64512, timers: {connect-retry: 1s}}
nodes:
  a: {address: 10.0.0.1}
  b: {address: 10.0.0.2}
peerings: [{mesh: [a, b]}]
expect:
  - established: all
    within: 30s
`, name)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	l, err := Up(ctx, topo, Options{Logger: zaptest.NewLogger(t), StateDir: "state", Mode: ModeNamespace})
	if err != nil {
		t.Fatalf("up with a relative state folder: %v", err)
	}
	defer func() {
		if err := l.Down(); err != nil {
			t.Errorf("down: %v", err)
		}
	}()
	if r := l.Check(ctx, CheckOptions{}); !r[0].OK {
		t.Fatalf("not Established with a relative state folder: %s", r[0].Detail)
	}
	if _, err := os.Stat(filepath.Join(dir, "state")); err != nil {
		t.Errorf("the state folder is not under the working folder: %v", err)
	}
}
