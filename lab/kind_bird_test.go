package lab

import (
	"context"
	"fmt"
	"hash/fnv"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/peerlab/peerlab/internal/bird"
	"github.com/peerlab/peerlab/internal/netns"
	"github.com/peerlab/peerlab/lab/topology"
)

// birdTestLab is a set of BIRD nodes in namespaces made by the test.
type birdTestLab struct {
	topo  *topology.Topology
	net   *netns.Lab
	nodes map[string]Node
}

// birdNet derives the 10.A.B.0/24 of a test from its name and the process,
// so the addresses of tests running side by side differ too.
func birdNet(t *testing.T) (base string, h uint32) {
	f := fnv.New32a()
	f.Write([]byte(t.Name() + "/" + strconv.Itoa(os.Getpid())))
	h = f.Sum32()
	return fmt.Sprintf("10.%d.%d", 100+h%100, (h>>8)%250+1), h
}

// startBIRDLab parses the topology yaml (with %[1]s standing for the
// test's 10.A.B and %[2]s for its lab name), creates one namespace per
// node, builds every node with the default registry and starts them all.
// Everything is torn down when the test ends.
func startBIRDLab(t *testing.T, yaml string) *birdTestLab {
	t.Helper()
	requireBIRD(t)
	base, h := birdNet(t)
	name := fmt.Sprintf("bk%x", h)
	topo, err := topology.Parse("test.yaml", []byte(fmt.Sprintf(yaml, base, name)))
	if err != nil {
		t.Fatalf("topology: %v", err)
	}
	spec := netns.LabSpec{Name: name}
	for _, n := range topo.Nodes {
		spec.Nodes = append(spec.Nodes, netns.NodeSpec{Name: n.Name, Addresses: []netip.Prefix{netip.PrefixFrom(n.Address, 24)}})
	}
	log := zaptest.NewLogger(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	netLab, err := netns.Create(ctx, spec, log)
	if err != nil {
		t.Fatalf("create namespaces: %v", err)
	}
	t.Cleanup(func() {
		if err := netLab.Destroy(); err != nil {
			t.Errorf("destroy namespaces: %v", err)
		}
	})
	l := &birdTestLab{topo: topo, net: netLab, nodes: map[string]Node{}}
	reg := NewDefaultRegistry()
	dir := t.TempDir()
	for i, n := range topo.Nodes {
		kind, ok := reg.Lookup(n.Kind)
		if !ok {
			t.Fatalf("kind %s not registered", n.Kind)
		}
		nodeDir := filepath.Join(dir, n.Name)
		if i == len(topo.Nodes)-1 {
			// Too long for a control socket under the folder: exercises
			// the short socket path.
			nodeDir = filepath.Join(dir, strings.Repeat("x", 100), n.Name)
		}
		if err := os.MkdirAll(nodeDir, 0o755); err != nil {
			t.Fatal(err)
		}
		node, err := kind.New(NodeSpec{
			Node:      n,
			Topology:  topo,
			Sessions:  sessionsOf(topo, n.Name),
			Bind:      func(node string) netip.Addr { return topo.Node(node).Address },
			Port:      179,
			Logger:    log.Named(n.Name),
			Namespace: nsNamespace{lab: netLab, node: n.Name},
			Dir:       nodeDir,
		})
		if err != nil {
			t.Fatalf("new %s: %v", n.Name, err)
		}
		t.Cleanup(func() { _ = node.Stop() })
		l.nodes[n.Name] = node
	}
	if err := forEachNode(netLab.Nodes(), func(name string) error { return l.nodes[name].Start(ctx) }); err != nil {
		t.Fatalf("start: %v", err)
	}
	for i, n := range topo.Nodes {
		bn := l.nodes[n.Name].(BIRDNode)
		note, err := os.ReadFile(filepath.Join(nodeRoot(bn), "run", "bird.ctl.path"))
		switch {
		case i < len(topo.Nodes)-1:
			if !strings.HasPrefix(bn.SocketPath(), dir) || err == nil {
				t.Errorf("%s: socket %s (note err %v), want it in the node's folder and no note", n.Name, bn.SocketPath(), err)
			}
		case err != nil || strings.TrimSpace(string(note)) != bn.SocketPath() || !strings.HasPrefix(bn.SocketPath(), shortSocketDir+"/"):
			t.Errorf("%s: socket %s, note %q (%v): want a short socket named in run/bird.ctl.path", n.Name, bn.SocketPath(), note, err)
		}
	}
	return l
}

// session returns local's view of its session with remote, or ok false.
func (l *birdTestLab) session(ctx context.Context, local, remote string) (SessionStatus, bool, error) {
	ss, err := l.nodes[local].Sessions(ctx)
	if err != nil {
		return SessionStatus{}, false, err
	}
	for _, s := range ss {
		if s.Remote == remote {
			return s, true, nil
		}
	}
	return SessionStatus{}, false, nil
}

// waitSession polls local's view of the session with remote until ok
// accepts it, and returns it.
func (l *birdTestLab) waitSession(t *testing.T, local, remote, what string, ok func(SessionStatus) bool) SessionStatus {
	t.Helper()
	var last SessionStatus
	birdWait(t, 20*time.Second, fmt.Sprintf("%s->%s %s", local, remote, what), func(ctx context.Context) (bool, string) {
		s, found, err := l.session(ctx, local, remote)
		if err != nil || !found {
			return false, fmt.Sprintf("found=%v err=%v", found, err)
		}
		last = s
		return ok(s), fmt.Sprintf("%+v (notification %v)", s, s.Notification)
	})
	return last
}

// birdWait polls cond every 200 ms until it holds or timeout passes.
func birdWait(t *testing.T, timeout time.Duration, what string, cond func(ctx context.Context) (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		ok, state := cond(ctx)
		cancel()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s; last: %s", timeout, what, state)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitRoute waits until node has a best route for prefix.
func (l *birdTestLab) waitRoute(t *testing.T, node, prefix string) {
	t.Helper()
	p := netip.MustParsePrefix(prefix)
	birdWait(t, 15*time.Second, fmt.Sprintf("route %s at %s", prefix, node), func(ctx context.Context) (bool, string) {
		ok, err := l.nodes[node].HasRoute(ctx, p)
		return ok, fmt.Sprintf("HasRoute = %v, %v", ok, err)
	})
}

// stopAndCheckGone stops every node, twice, and checks no bird process
// started from the nodes' configuration files is left.
func (l *birdTestLab) stopAndCheckGone(t *testing.T) {
	t.Helper()
	var configs []string
	for name, n := range l.nodes {
		bn := n.(BIRDNode)
		if bn.Pid() == 0 {
			t.Errorf("%s: no daemon pid before Stop", name)
		}
		configs = append(configs, bn.ConfigPath())
		for i := 0; i < 2; i++ {
			if err := n.Stop(); err != nil {
				t.Errorf("stop %s (call %d): %v", name, i+1, err)
			}
		}
		if bn.Pid() != 0 {
			t.Errorf("%s: pid %d after Stop", name, bn.Pid())
		}
	}
	if left := birdProcesses(t, configs); len(left) > 0 {
		t.Errorf("bird processes left after Stop: %v", left)
	}
}

// birdProcesses lists /proc entries whose command line runs bird on one
// of configs.
func birdProcesses(t *testing.T, configs []string) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		raw, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00")
		if len(args) == 0 || filepath.Base(args[0]) != "bird" {
			continue
		}
		for _, a := range args {
			for _, c := range configs {
				if a == c {
					out = append(out, e.Name()+": "+strings.Join(args, " "))
				}
			}
		}
	}
	return out
}

// TestBIRDMeshOf3 runs a Calico full mesh of three BIRD 1.6 nodes: every
// end reaches Established under its Calico protocol name, each node's block
// reaches the others, and Stop leaves no bird behind.
func TestBIRDMeshOf3(t *testing.T) {
	l := startBIRDLab(t, `
name: %[2]s
defaults: {asn: 64512, kind: bird}
nodes:
  n1: {address: %[1]s.1, prefixes: [10.244.1.0/24]}
  n2: {address: %[1]s.2, prefixes: [10.244.2.0/24]}
  n3: {address: %[1]s.3, prefixes: [10.244.3.0/24]}
peerings:
  - mesh: [n1, n2, n3]
`)
	names := []string{"n1", "n2", "n3"}
	for _, a := range names {
		for _, b := range names {
			if a != b {
				l.waitSession(t, a, b, "Established", SessionStatus.Established)
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, a := range names {
		c, err := l.nodes[a].(BIRDNode).Client(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ps, err := c.ShowProtocols(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range ps {
			if p.Proto == "BGP" {
				got = append(got, p.Name)
			}
		}
		var want []string
		for _, b := range names {
			if b != a {
				want = append(want, "Mesh_"+strings.ReplaceAll(l.topo.Node(b).Address.String(), ".", "_"))
			}
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s BGP protocols = %v, want %v", a, got, want)
		}
	}
	l.waitRoute(t, "n3", "10.244.1.0/24")
	l.waitRoute(t, "n1", "10.244.3.0/24")
	l.waitRoute(t, "n2", "10.244.3.0/24")
	if ok, err := l.nodes["n1"].HasRoute(ctx, netip.MustParsePrefix("10.244.9.0/24")); ok || err != nil {
		t.Errorf("HasRoute of a prefix nobody announces = %v, %v; want false, nil", ok, err)
	}
	if log := filepath.Join(nodeRoot(l.nodes["n1"].(BIRDNode)), "var", "log", "bird.log"); !fileHas(t, log, "Mesh_") {
		t.Errorf("%s does not log the mesh protocols", log)
	}
	l.stopAndCheckGone(t)
	if _, err := l.nodes["n1"].Sessions(ctx); err == nil {
		t.Error("Sessions after Stop: want an error")
	}
}

// TestBIRD2PairAndBIRD1Interop runs a BIRD 2 pair (iBGP mesh) and a
// BIRD 1.6 <-> BIRD 2 eBGP session, and checks announced blocks arrive.
func TestBIRD2PairAndBIRD1Interop(t *testing.T) {
	l := startBIRDLab(t, `
name: %[2]s
defaults: {asn: 64512}
nodes:
  a: {address: %[1]s.1, kind: bird2, prefixes: [10.244.1.0/24]}
  b: {address: %[1]s.2, kind: bird2, prefixes: [10.244.2.0/24]}
  c: {address: %[1]s.3, kind: bird, asn: 64513, prefixes: [10.244.3.0/24]}
peerings:
  - mesh: [a, b]
  - between: [b, c]
`)
	for _, p := range [][2]string{{"a", "b"}, {"b", "a"}, {"b", "c"}, {"c", "b"}} {
		l.waitSession(t, p[0], p[1], "Established", SessionStatus.Established)
	}
	l.waitRoute(t, "b", "10.244.1.0/24") // BIRD 2 -> BIRD 2
	l.waitRoute(t, "a", "10.244.2.0/24")
	l.waitRoute(t, "b", "10.244.3.0/24") // BIRD 1.6 -> BIRD 2
	l.waitRoute(t, "c", "10.244.2.0/24") // BIRD 2 -> BIRD 1.6
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := l.nodes["b"].(BIRDNode).Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c.Major() != bird.Bird2 {
		t.Errorf("node b runs BIRD %s, want 2.x", c.Version())
	}
	l.stopAndCheckGone(t)
}

// TestBIRDASMismatch configures, on c's side, a wrong AS for d: c detects
// it in d's OPEN and sends NOTIFICATION 2/2, which d receives.
func TestBIRDASMismatch(t *testing.T) {
	l := startBIRDLab(t, `
name: %[2]s
defaults: {asn: 64512}
nodes:
  c: {address: %[1]s.1, kind: bird}
  d: {address: %[1]s.2, kind: bird2}
peerings:
  - between: [c, d]
    peer-asn: {d: 65099}
`)
	hasNotification := func(sent bool) func(SessionStatus) bool {
		return func(s SessionStatus) bool {
			n := s.Notification
			return n != nil && n.Code == 2 && n.Subcode == 2 && n.Sent == sent
		}
	}
	sc := l.waitSession(t, "c", "d", "NOTIFICATION 2/2 sent", hasNotification(true))
	sd := l.waitSession(t, "d", "c", "NOTIFICATION 2/2 received", hasNotification(false))
	t.Logf("c: %+v (%v)", sc, sc.Notification)
	t.Logf("d: %+v (%v)", sd, sd.Notification)
	if sc.Established() || sd.Established() {
		t.Errorf("states %q and %q: the session must not come up", sc.State, sd.State)
	}
	if sc.LastError != "BGP Error: Bad peer AS" {
		t.Errorf("c last error = %q, want BIRD's %q", sc.LastError, "BGP Error: Bad peer AS")
	}
	if sd.LastError != "Received: Bad peer AS" {
		t.Errorf("d last error = %q, want BIRD's %q", sd.LastError, "Received: Bad peer AS")
	}
	if want := "OPEN Message Error / Bad Peer AS"; sc.Notification.Name != want {
		t.Errorf("notification name = %q, want %q", sc.Notification.Name, want)
	}
	l.stopAndCheckGone(t)
}

// fileHas reports whether file contains s.
func fileHas(t *testing.T, file, s string) bool {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Errorf("read %s: %v", file, err)
		return false
	}
	return strings.Contains(string(data), s)
}

// nodeRoot is a BIRD node's folder, three levels above etc/bird/bird.cfg.
func nodeRoot(n BIRDNode) string { return filepath.Dir(filepath.Dir(filepath.Dir(n.ConfigPath()))) }
