package lab

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/peerlab/peerlab/lab/topology"
	"github.com/peerlab/peerlab/speaker"
)

// testPort derives a BGP port from the test name so tests never share one.
func testPort(t *testing.T) int {
	h := fnv.New32a()
	h.Write([]byte("lab/" + t.Name()))
	return 20000 + int(h.Sum32()%20000)
}

// loadShipped loads a topology from topologies/ under a name unique to the test.
func loadShipped(t *testing.T, file, name string) *topology.Topology {
	t.Helper()
	topo, err := topology.Load(filepath.Join("..", "topologies", file))
	if err != nil {
		t.Fatalf("load %s: %v", file, err)
	}
	topo.Name = name
	return topo
}

// upLab brings topo up for the test and tears it down at the end.
func upLab(t *testing.T, topo *topology.Topology, stateDir string, port int) *Lab {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l, err := Up(ctx, topo, Options{Logger: zaptest.NewLogger(t), StateDir: stateDir, Port: port, Mode: ModeLoopback})
	if err != nil {
		t.Fatalf("up %s: %v", topo.Name, err)
	}
	t.Cleanup(func() {
		if err := l.Down(); err != nil {
			t.Errorf("down %s: %v", topo.Name, err)
		}
	})
	return l
}

// checkAll runs the lab's expectations and fails the test for each that fails.
func checkAll(t *testing.T, l *Lab) {
	t.Helper()
	checkAllWithin(t, l, 40*time.Second)
}

// checkAllWithin is checkAll for labs whose windows are longer than 40 s.
func checkAllWithin(t *testing.T, l *Lab, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	results := l.Check(ctx, CheckOptions{})
	if len(results) == 0 {
		t.Fatalf("%s has no expectations", l.Topology().Name)
	}
	for _, r := range results {
		if !r.OK {
			t.Errorf("%s: expectation failed: %s: %s", l.Topology().Name, r.Description, r.Detail)
		}
	}
}

func TestShippedTopologiesMeetTheirExpectations(t *testing.T) {
	for _, tc := range []struct{ file, name string }{
		{"calico-mesh.yaml", "t-mesh"},
		{"calico-rr.yaml", "t-rr"},
		{"ebgp-tor.yaml", "t-tor"},
		{"quickstart.yaml", "t-quick"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			l := upLab(t, loadShipped(t, tc.file, tc.name), t.TempDir(), testPort(t))
			checkAll(t, l)
			ss, err := l.Sessions(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if want := 2 * len(l.Topology().Sessions); len(ss) != want {
				t.Errorf("got %d session ends, want %d", len(ss), want)
			}
		})
	}
}

// TestShippedFullTable plays topologies/upstream-fulltable.yaml: an
// injector pushes 100,000 /24s through a GoBGP border to a node. It is
// not parallel: GoBGP digesting the table takes both cores for a few
// seconds, which would stretch the other shipped labs past their windows.
func TestShippedFullTable(t *testing.T) {
	l := upLab(t, loadShipped(t, "upstream-fulltable.yaml", "t-fulltable"), t.TempDir(), testPort(t))
	checkAllWithin(t, l, 90*time.Second)
}

// speakerOf returns the embedded speaker of a gobgp node.
func speakerOf(t *testing.T, l *Lab, node string) *speaker.Speaker {
	t.Helper()
	sn, ok := l.Node(node).(SpeakerNode)
	if !ok {
		t.Fatalf("node %s is not an embedded speaker", node)
	}
	return sn.Speaker()
}

// waitFor polls cond until it is true or the timeout passes.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestRouteReflectionSetsOriginatorAndClusterList(t *testing.T) {
	topo := loadShipped(t, "calico-rr.yaml", "t-rr-attrs")
	l := upLab(t, topo, t.TempDir(), testPort(t))
	checkAll(t, l)

	ctx := context.Background()
	client1, client2 := speakerOf(t, l, "node1"), speakerOf(t, l, "node2")
	prefix := netip.MustParsePrefix("172.20.0.0/16")
	if err := client1.Announce(ctx, []speaker.Route{{Prefix: prefix, Communities: []string{"64512:42"}}}); err != nil {
		t.Fatal(err)
	}
	rr1 := topo.Node("rr1")
	node1 := topo.Node("node1")
	var got speaker.Path
	waitFor(t, "the prefix at node2 through rr1", 10*time.Second, func() (bool, error) {
		paths, err := client2.RIB(ctx, speaker.TableAdjIn, netip.MustParseAddr(l.BindAddress("rr1")), speaker.IPv4Unicast)
		if err != nil {
			return false, err
		}
		for _, p := range paths {
			if p.Prefix == prefix {
				got = p
				return true, nil
			}
		}
		return false, nil
	})
	if got.OriginatorID != node1.RouterID {
		t.Errorf("ORIGINATOR_ID = %v, want node1's router id %v", got.OriginatorID, node1.RouterID)
	}
	if len(got.ClusterList) != 1 || got.ClusterList[0] != rr1.ClusterID {
		t.Errorf("CLUSTER_LIST = %v, want [%v]", got.ClusterList, rr1.ClusterID)
	}
	if !containsString(got.Communities, "64512:42") {
		t.Errorf("communities = %v, want 64512:42 carried through", got.Communities)
	}

	if err := client1.Withdraw(ctx, []netip.Prefix{prefix}); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if t.Failed() {
			dumpPaths(t, l, prefix)
		}
	}()
	waitFor(t, "the withdraw at node2", 10*time.Second, func() (bool, error) {
		has, err := l.Node("node2").HasRoute(ctx, prefix)
		return !has, err
	})
}

// dumpPaths logs every node's paths for prefix, to explain a failure.
func dumpPaths(t *testing.T, l *Lab, prefix netip.Prefix) {
	for _, n := range l.Topology().Nodes {
		paths, err := speakerOf(t, l, n.Name).RIB(context.Background(), speaker.TableBest, netip.Addr{}, speaker.IPv4Unicast)
		if err != nil {
			t.Logf("%s: %v", n.Name, err)
			continue
		}
		for _, p := range paths {
			if p.Prefix == prefix {
				t.Logf("%s holds %+v", n.Name, p)
			}
		}
	}
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestQuickstartReportsASMismatch(t *testing.T) {
	l := upLab(t, loadShipped(t, "quickstart.yaml", "t-quick-asm"), t.TempDir(), testPort(t))
	checkAll(t, l)
	r := l.Report(context.Background(), nil)
	var seen []string
	for _, s := range r.Sessions {
		if (s.Local == "node2" && s.Remote == "tor") || (s.Local == "tor" && s.Remote == "node2") {
			seen = append(seen, s.Local+": "+s.Notification)
			if !strings.HasPrefix(s.Notification, "2/2 ") {
				t.Errorf("%s->%s notification = %q, want 2/2 Bad Peer AS", s.Local, s.Remote, s.Notification)
			}
			if s.State == "Established" {
				t.Errorf("%s->%s is Established despite the AS mismatch", s.Local, s.Remote)
			}
		}
	}
	if len(seen) != 2 {
		t.Fatalf("want both ends of tor<->node2 in the report, got %v", seen)
	}
}

func TestTwoLabsRunSideBySide(t *testing.T) {
	stateDir := t.TempDir() // shared: the labs must claim distinct address blocks
	port := testPort(t)     // shared too: only the addresses keep them apart
	a := upLab(t, loadShipped(t, "calico-mesh.yaml", "t-side-a"), stateDir, port)
	b := upLab(t, loadShipped(t, "calico-mesh.yaml", "t-side-b"), stateDir, port)
	if a.BindAddress("node1") == b.BindAddress("node1") {
		t.Fatalf("both labs bind node1 to %s", a.BindAddress("node1"))
	}
	done := make(chan struct{})
	go func() { checkAll(t, a); close(done) }()
	checkAll(t, b)
	<-done
}

func TestSameLabNameTwiceIsRefused(t *testing.T) {
	stateDir := t.TempDir()
	upLab(t, loadShipped(t, "calico-mesh.yaml", "t-dup"), stateDir, testPort(t))
	_, err := Up(context.Background(), loadShipped(t, "calico-mesh.yaml", "t-dup"), Options{StateDir: stateDir, Port: testPort(t) + 1, Mode: ModeLoopback})
	if !errors.Is(err, ErrLabExists) {
		t.Fatalf("second lab with the same name: err = %v, want ErrLabExists", err)
	}
}

// failingKind builds nodes whose Start fails, to test the clean-up of a failed bring-up.
type failingNode struct{ stopped *int }

func (f failingNode) Start(context.Context) error                          { return fmt.Errorf("refusing to start") }
func (f failingNode) Stop() error                                          { *f.stopped++; return nil }
func (f failingNode) Sessions(context.Context) ([]SessionStatus, error)    { return nil, nil }
func (f failingNode) HasRoute(context.Context, netip.Prefix) (bool, error) { return false, nil }

func TestFailedUpTearsDownWhatItMade(t *testing.T) {
	stateDir := t.TempDir()
	topo := loadShipped(t, "calico-mesh.yaml", "t-failed-up")
	topo.Node("node3").Kind = "broken"
	stopped := 0
	reg := NewDefaultRegistry()
	if err := reg.Register("broken", KindFunc(func(NodeSpec) (Node, error) { return failingNode{&stopped}, nil })); err != nil {
		t.Fatal(err)
	}
	_, err := Up(context.Background(), topo, Options{StateDir: stateDir, Port: testPort(t), Registry: reg, Mode: ModeLoopback})
	if err == nil || !strings.Contains(err.Error(), "start node node3") {
		t.Fatalf("err = %v, want the failure of node3", err)
	}
	if stopped != 1 {
		t.Errorf("the failed node was stopped %d times, want 1", stopped)
	}
	// Everything was released: the same lab can come up again right away,
	// and the speakers started before node3 no longer hold their addresses.
	topo.Node("node3").Kind = topology.KindGoBGP
	l := upLab(t, topo, stateDir, testPort(t))
	checkAll(t, l)
}

func TestRegistryRefusesDuplicates(t *testing.T) {
	r := NewDefaultRegistry()
	if err := r.Register(topology.KindGoBGP, KindFunc(newGoBGPNode)); err == nil {
		t.Fatal("registering gobgp twice succeeded")
	}
	want := []string{topology.KindBIRD, topology.KindBIRD2, topology.KindGoBGP, topology.KindInjector}
	if got := r.Names(); !slices.Equal(got, want) {
		t.Errorf("Names() = %v, want %v", got, want)
	}
}
