package lab

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"go.uber.org/zap/zaptest"

	"github.com/peerlab/peerlab/lab/topology"
)

// hostNeighborThresholds are the host's neighbour table limits, which a
// lab must leave as it found them.
var hostNeighborThresholds = []string{
	"/proc/sys/net/ipv4/neigh/default/gc_thresh1", "/proc/sys/net/ipv4/neigh/default/gc_thresh2",
	"/proc/sys/net/ipv4/neigh/default/gc_thresh3", "/proc/sys/net/ipv6/neigh/default/gc_thresh3",
}

func readThresholds(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, p := range hostNeighborThresholds {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p+"="+strings.TrimSpace(string(b)))
	}
	return out
}

// TestNamespaceStar200 brings a route reflector with 199 clients up in
// namespace mode, all on the lab bridge: more neighbour entries than the
// kernel's default gc_thresh1, so the lab writes static ones. Every
// session must reach Established at both ends; the reflector must hold a
// PERMANENT entry for each client and nothing but them; the host's
// neighbour thresholds must be what they were before and after.
func TestNamespaceStar200(t *testing.T) {
	requireRoot(t)
	t.Setenv(AgentExeEnv, builtPeerlab(t))
	before := readThresholds(t)
	const clients = 199
	name := fmt.Sprintf("star200-%d", os.Getpid()%100000)
	topo, err := topology.Parse(name+".yaml", rrTopologyYAML(name, clients))
	if err != nil {
		t.Fatal(err)
	}
	stateDir, err := os.MkdirTemp("/tmp", "plstar")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(stateDir) })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	l, err := Up(ctx, topo, Options{Logger: zaptest.NewLogger(t), StateDir: stateDir, Mode: ModeNamespace})
	if err != nil {
		t.Fatalf("up: %v", err)
	}
	downed := false
	defer func() {
		if !downed {
			_ = l.Down()
		}
	}()
	results := l.Check(ctx, CheckOptions{})
	if len(results) != 1 || !results[0].OK {
		t.Fatalf("not every session Established: %+v", results)
	}

	var permanent int
	err = l.ns.namespace("rr").Do(func() error {
		eth, err := netlink.LinkByName("eth0")
		if err != nil {
			return err
		}
		all, err := netlink.NeighList(eth.Attrs().Index, netlink.FAMILY_V4)
		if err != nil {
			return err
		}
		for _, n := range all {
			if n.State&netlink.NUD_PERMANENT != 0 {
				permanent++
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("neighbours of rr: %v", err)
	}
	if permanent != clients {
		t.Errorf("rr holds %d PERMANENT neighbour entries, want one per client: %d", permanent, clients)
	}
	if during := readThresholds(t); strings.Join(during, " ") != strings.Join(before, " ") {
		t.Errorf("host neighbour thresholds changed while the lab runs: %v, were %v", during, before)
	}
	downed = true
	if err := l.Down(); err != nil {
		t.Fatalf("down: %v", err)
	}
	if after := readThresholds(t); strings.Join(after, " ") != strings.Join(before, " ") {
		t.Errorf("host neighbour thresholds after down: %v, were %v", after, before)
	}
}
