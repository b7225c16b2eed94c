package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/peerlab/peerlab/internal/netns"
	"github.com/peerlab/peerlab/lab/agent"
	"github.com/peerlab/peerlab/lab/topology"
)

// builtProgram is a program of this module built once per test binary,
// next to the test binary (go test removes that folder): inside a test,
// /proc/self/exe is the test binary, so namespace nodes run their agent
// from one of these.
type builtProgram struct {
	once sync.Once
	path string
	err  error
}

// peerlabBuild is cmd/peerlab; agentBuild is cmd/peerlab-gobgpd, the agent
// program make build puts beside it.
var peerlabBuild, agentBuild builtProgram

// build builds pkg as name (plus this process's id) once and returns its
// path.
func (p *builtProgram) build(t testing.TB, pkg, name string) string {
	t.Helper()
	p.once.Do(func() {
		out := filepath.Join(filepath.Dir(os.Args[0]), fmt.Sprintf("%s-%d", name, os.Getpid()))
		cmd := exec.Command("go", "build", "-o", out, pkg)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			p.err = fmt.Errorf("go build %s: %w\n%s", pkg, err, stderr.String())
			return
		}
		p.path = out
	})
	if p.err != nil {
		t.Fatal(p.err)
	}
	return p.path
}

// builtPeerlab is peerlab built from this tree.
func builtPeerlab(t testing.TB) string {
	return peerlabBuild.build(t, "github.com/peerlab/peerlab/cmd/peerlab", "peerlab-agent")
}

// builtAgentProgram is peerlab-gobgpd built from this tree.
func builtAgentProgram(t testing.TB) string {
	return agentBuild.build(t, "github.com/peerlab/peerlab/cmd/peerlab-gobgpd", AgentProgram)
}

// hostNamespace is a Namespace that is the host's own: processes start
// as they are, for tests of the node's process handling without root.
type hostNamespace struct{}

func (hostNamespace) Path() string                     { return "/proc/self/ns/net" }
func (hostNamespace) StartProcess(cmd *exec.Cmd) error { return cmd.Start() }
func (hostNamespace) Do(fn func() error) error         { return fn() }

// remoteTopology parses a two-node gobgp topology with one session, a
// announcing prefix.
func remoteTopology(t *testing.T, name string, addrA, addrB netip.Addr, prefix netip.Prefix) *topology.Topology {
	t.Helper()
	doc := fmt.Sprintf(`name: %s
defaults: {asn: 64512, timers: {hold: 9s, keepalive: 3s, connect-retry: 1s}}
nodes:
  a: {address: %s, prefixes: [%s]}
  b: {address: %s}
peerings:
  - between: [a, b]
`, name, addrA, prefix, addrB)
	topo, err := topology.Parse(name+".yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return topo
}

// remoteSpec is the NodeSpec of node in namespace mode (or, with
// hostNamespace, a stand-in for it).
func remoteSpec(t *testing.T, topo *topology.Topology, node string, ns Namespace, port int) NodeSpec {
	return NodeSpec{
		Node:     topo.Node(node),
		Topology: topo,
		Sessions: sessionsOf(topo, node),
		Bind:     func(n string) netip.Addr { return topo.Node(n).Address },
		Port:     port,
		// Info, so the agents (which take the lab's level) log their start.
		Logger:    zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(io.Discard), zap.InfoLevel)),
		Namespace: ns,
		Dir:       t.TempDir(),
	}
}

// newRemote builds node through the gobgp kind, which must choose the
// remote node because the spec has a namespace.
func newRemote(t *testing.T, spec NodeSpec) *remoteGoBGPNode {
	t.Helper()
	n, err := newGoBGPNode(spec)
	if err != nil {
		t.Fatal(err)
	}
	r, ok := n.(*remoteGoBGPNode)
	if !ok {
		t.Fatalf("newGoBGPNode with a namespace = %T, want *remoteGoBGPNode", n)
	}
	t.Cleanup(func() { _ = r.Stop() })
	return r
}

// agentProcesses lists the pids whose command line mentions sock.
func agentProcesses(t *testing.T, sock string) []string {
	t.Helper()
	files, err := filepath.Glob("/proc/[0-9]*/cmdline")
	if err != nil || len(files) == 0 {
		t.Fatalf("list /proc: %v (%d files)", err, len(files))
	}
	var pids []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err == nil && bytes.Contains(b, []byte(sock)) && bytes.HasPrefix(b, []byte(agent.ProcessName+"\x00")) {
			pids = append(pids, strings.Split(f, "/")[2])
		}
	}
	return pids
}

// TestRemoteNodeFailedStarts checks a node whose agent never serves: Start
// fails with the reason, no process is left, and Stop is harmless, twice.
func TestRemoteNodeFailedStarts(t *testing.T) {
	dir := t.TempDir()
	sleeper := filepath.Join(dir, "sleeper")
	if err := os.WriteFile(sleeper, []byte("#!/bin/sh\necho started >&2\nexec sleep 60\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	topo := remoteTopology(t, "failed", netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("127.0.0.2"),
		netip.MustParsePrefix("10.244.1.0/24"))
	for _, tc := range []struct {
		name, exe string
		timeout   time.Duration
		want      string
	}{
		{"agent exits at once", "/bin/false", 10 * time.Second, "exited before serving"},
		{"agent never listens", sleeper, time.Second, "context deadline exceeded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(AgentExeEnv, tc.exe)
			r := newRemote(t, remoteSpec(t, topo, "a", hostNamespace{}, -1))
			ctx, cancel := context.WithTimeout(context.Background(), tc.timeout)
			defer cancel()
			err := r.Start(ctx)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Start = %v, want an error mentioning %q", err, tc.want)
			}
			select {
			case <-r.exited:
			default:
				t.Errorf("agent pid %d still running after the failed Start", r.cmd.Process.Pid)
			}
			if _, err := r.Sessions(ctx); err == nil {
				t.Error("Sessions on a node that did not start succeeded")
			}
			for i := range 2 {
				if err := r.Stop(); err != nil {
					t.Errorf("Stop #%d = %v, want nil", i+1, err)
				}
			}
		})
	}
	t.Run("never started", func(t *testing.T) {
		r := newRemote(t, remoteSpec(t, topo, "b", hostNamespace{}, -1))
		if err := r.Stop(); err != nil {
			t.Errorf("Stop = %v", err)
		}
		if err := r.Start(context.Background()); err == nil {
			t.Error("Start after Stop succeeded")
		}
	})
}

// TestRemoteNodesPeerInNamespaces runs two gobgp nodes as agents in their
// own network namespaces: the session comes up both ways, the route
// arrives, events reach subscribers, and Stop leaves no agent behind.
func TestRemoteNodesPeerInNamespaces(t *testing.T) {
	requireRoot(t)
	start := time.Now()
	t.Setenv(AgentExeEnv, builtPeerlab(t))
	t.Logf("peerlab built in %v", time.Since(start))

	h := fnv.New32a()
	h.Write([]byte(t.Name()))
	v := h.Sum32()
	name := fmt.Sprintf("r%d-%06x", os.Getpid()%100000, v&0xffffff)
	clean := func() {
		if _, err := netns.Clean(context.Background(), name, nil); err != nil {
			t.Errorf("clean %s: %v", name, err)
		}
	}
	clean()
	t.Cleanup(clean)
	base := [4]byte{10, byte(v >> 8), byte(v >> 16), 0}
	addrA, addrB := base, base
	addrA[3], addrB[3] = 1, 2
	a, b := netip.AddrFrom4(addrA), netip.AddrFrom4(addrB)
	ctx := context.Background()
	nl, err := netns.Create(ctx, netns.LabSpec{Name: name, Nodes: []netns.NodeSpec{
		{Name: "a", Addresses: []netip.Prefix{netip.PrefixFrom(a, 24)}},
		{Name: "b", Addresses: []netip.Prefix{netip.PrefixFrom(b, 24)}},
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nl.Destroy() })

	prefix := netip.MustParsePrefix("10.244.1.0/24")
	topo := remoteTopology(t, name, a, b, prefix)
	nodes := map[string]*remoteGoBGPNode{}
	var mu sync.Mutex
	seen := map[[2]string]bool{} // (local, remote) reached Established
	for _, n := range []string{"a", "b"} {
		nodes[n] = newRemote(t, remoteSpec(t, topo, n, nsNamespace{lab: nl, node: n}, namespaceBGPPort))
		nodes[n].Subscribe(func(e SessionEvent) {
			if e.To == "Established" {
				mu.Lock()
				seen[[2]string{e.Local, e.Remote}] = true
				mu.Unlock()
			}
		})
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, n := range []string{"a", "b"} {
		wg.Go(func() { errs[i] = nodes[n].Start(ctx) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}

	t.Logf("nodes started %v since the test began", time.Since(start))
	// Each agent runs in its node's namespace.
	for n, r := range nodes {
		nsPath, err := nl.NamespacePath(n)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := inode(t, fmt.Sprintf("/proc/%d/ns/net", r.cmd.Process.Pid)), inode(t, nsPath); got != want {
			t.Errorf("agent of %s is in namespace inode %d, want %s's %d", n, got, nsPath, want)
		}
	}

	for _, e := range [][2]string{{"a", "b"}, {"b", "a"}} {
		remoteWait(t, 20*time.Second, e[0]+" sees "+e[1]+" Established", func() (bool, error) {
			ss, err := nodes[e[0]].Sessions(ctx)
			return err == nil && len(ss) == 1 && ss[0].Remote == e[1] && ss[0].Established(), err
		})
	}
	remoteWait(t, 10*time.Second, "route at b", func() (bool, error) { return nodes["b"].HasRoute(ctx, prefix) })
	if has, err := nodes["a"].HasRoute(ctx, netip.MustParsePrefix("10.244.9.0/24")); err != nil || has {
		t.Errorf("a.HasRoute(unannounced) = %v, %v", has, err)
	}
	paths, err := nodes["b"].Client().RIB(ctx, 0, netip.Addr{}, "ipv4-unicast")
	if err != nil || len(paths) != 1 || paths[0].NextHop != a {
		t.Errorf("b's best paths = %+v, %v; want %v via %v", paths, err, prefix, a)
	}
	remoteWait(t, 5*time.Second, "Established events at both ends", func() (bool, error) {
		mu.Lock()
		defer mu.Unlock()
		return seen[[2]string{"a", "b"}] && seen[[2]string{"b", "a"}], nil
	})

	t.Logf("sessions, route and events checked %v since the test began", time.Since(start))
	for n, r := range nodes {
		stopStart := time.Now()
		for i := range 2 {
			if err := r.Stop(); err != nil {
				t.Errorf("Stop(%s) #%d = %v, want nil (a clean exit)", n, i+1, err)
			}
		}
		t.Logf("%s stopped in %v", n, time.Since(stopStart))
		if pids := agentProcesses(t, r.sock); len(pids) > 0 {
			t.Errorf("agent of %s still running after Stop: pids %v", n, pids)
		}
		if log := tail(r.logf, 4096); !strings.Contains(log, `"msg":"agent listening"`) {
			t.Errorf("agent log of %s lacks its JSON start line:\n%s", n, log)
		}
	}
}

// inode is the inode number of path.
func inode(t *testing.T, path string) uint64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// remoteWait polls cond until it holds or timeout passes.
func remoteWait(t *testing.T, timeout time.Duration, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var lastErr error
	for time.Now().Before(deadline) {
		ok, err := cond()
		if ok {
			return
		}
		lastErr = err
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out after %v waiting for %s (last error: %v)", timeout, what, lastErr)
}
