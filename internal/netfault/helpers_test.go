package netfault

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/peerlab/peerlab/internal/netns"
	"github.com/peerlab/peerlab/internal/testgate"
	"go.uber.org/zap/zaptest"
)

// dialTimeout bounds every connect in these tests; a dropped SYN shows up
// as this timeout.
const dialTimeout = 1500 * time.Millisecond

// requireRoot skips a test that needs root and network namespaces, except
// in CI (CI=true), where it fails instead.
func requireRoot(tb testing.TB) {
	tb.Helper()
	testgate.RequireRoot(tb, "to create network namespaces")
}

// testLab is a netns lab of nodes a, b, c … on one bridge: node i (from 0)
// has 10.X.Y.<i+1>/24 and fd00:X:Y::<i+1>/64 on eth0, with X and Y
// derived from the test name.
type testLab struct {
	*netns.Lab
	t    *testing.T
	x, y byte
}

// labOption changes the spec newLab builds.
type labOption func(l *testLab, spec *netns.LabSpec)

// newLab creates a lab of n nodes unique to t and destroys it at the end
// of the test.
func newLab(t *testing.T, n int, opts ...labOption) *testLab {
	t.Helper()
	requireRoot(t)
	sum := sha256.Sum256([]byte(t.Name()))
	name := fmt.Sprintf("nf%d-%x", os.Getpid()%100000, sum[:3])
	if _, err := netns.Clean(context.Background(), name, nil); err != nil {
		t.Fatalf("clean stale lab %s: %v", name, err)
	}
	l := &testLab{t: t, x: sum[3]%250 + 1, y: sum[4]}
	spec := netns.LabSpec{Name: name}
	for i := 0; i < n; i++ {
		node := string(rune('a' + i))
		spec.Nodes = append(spec.Nodes, netns.NodeSpec{
			Name:      node,
			Addresses: []netip.Prefix{netip.PrefixFrom(l.addr4(node), 24), netip.PrefixFrom(l.addr6(node), 64)},
		})
	}
	for _, o := range opts {
		o(l, &spec)
	}
	lab, err := netns.Create(context.Background(), spec, zaptest.NewLogger(t))
	if err != nil {
		t.Fatalf("create lab %s: %v", name, err)
	}
	t.Cleanup(func() {
		if err := lab.Destroy(); err != nil {
			t.Errorf("destroy lab %s: %v", name, err)
		}
	})
	l.Lab = lab
	return l
}

// index returns the position of node ("a" is 0).
func index(node string) int { return int(node[0] - 'a') }

// addr4 returns node's IPv4 address on eth0.
func (l *testLab) addr4(node string) netip.Addr {
	return netip.AddrFrom4([4]byte{10, l.x, l.y, byte(index(node) + 1)})
}

// addr6 returns node's IPv6 address on eth0.
func (l *testLab) addr6(node string) netip.Addr {
	return netip.AddrFrom16([16]byte{0xfd, 0, 0, l.x, 0, l.y, 14: 0, 15: byte(index(node) + 1)})
}

// loopback4 returns an extra IPv4 address for node outside the lab subnet.
func (l *testLab) loopback4(node string) netip.Addr {
	return netip.AddrFrom4([4]byte{172, 16 + l.x%16, l.y, byte(index(node) + 1)})
}

// target returns the fault target for node.
func (l *testLab) target(node string) Target {
	l.t.Helper()
	path, err := l.NamespacePath(node)
	if err != nil {
		l.t.Fatal(err)
	}
	return Target{Node: node, NSPath: path, Addr: l.addr4(node), Log: zaptest.NewLogger(l.t)}
}

// serve runs a TCP echo server in node on addr:port until the test ends
// and returns a channel of the remote address of every accepted
// connection.
func (l *testLab) serve(node string, addr netip.Addr, port uint16) <-chan netip.AddrPort {
	l.t.Helper()
	ln, err := l.ListenIn(node, "tcp", netip.AddrPortFrom(addr, port).String())
	if err != nil {
		l.t.Fatalf("listen in %s: %v", node, err)
	}
	l.t.Cleanup(func() { ln.Close() })
	peers := make(chan netip.AddrPort, 64)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			select {
			case peers <- c.RemoteAddr().(*net.TCPAddr).AddrPort():
			default:
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return peers
}

// dial connects from node to addr:port within dialTimeout.
func (l *testLab) dial(from string, addr netip.Addr, port uint16) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
	defer cancel()
	return l.DialIn(ctx, from, "tcp", netip.AddrPortFrom(addr, port).String())
}

// mustConnect asserts that from connects to addr:port and closes the
// connection.
func (l *testLab) mustConnect(from string, addr netip.Addr, port uint16) {
	l.t.Helper()
	c, err := l.dial(from, addr, port)
	if err != nil {
		l.t.Fatalf("%s -> %v: want a connection, got %v", from, netip.AddrPortFrom(addr, port), err)
	}
	c.Close()
}

// outcome is how a connect ended.
type outcome string

const (
	connected outcome = "connected"
	timedOut  outcome = "timed out"
	refused   outcome = "ECONNREFUSED"
	hostUnrch outcome = "EHOSTUNREACH"
	denied    outcome = "EACCES"
)

// classify maps a dial error to an outcome; unknown errors are returned
// as their text.
func classify(err error) outcome {
	var ne net.Error
	switch {
	case err == nil:
		return connected
	case errors.Is(err, syscall.ECONNREFUSED):
		return refused
	case errors.Is(err, syscall.EHOSTUNREACH):
		return hostUnrch
	case errors.Is(err, syscall.EACCES):
		return denied
	case errors.As(err, &ne) && ne.Timeout():
		return timedOut
	default:
		return outcome("other: " + err.Error())
	}
}

// try dials from node to addr:port and reports the outcome and how long it
// took.
func (l *testLab) try(from string, addr netip.Addr, port uint16) (outcome, time.Duration) {
	start := time.Now()
	c, err := l.dial(from, addr, port)
	took := time.Since(start)
	if c != nil {
		c.Close()
	}
	return classify(err), took
}

// ruleset returns `nft list ruleset` run inside node's namespace: the
// kernel's view, independent of this package's netlink code.
func (l *testLab) ruleset(node string) string {
	l.t.Helper()
	ns, err := l.Namespace(node)
	if err != nil {
		l.t.Fatal(err)
	}
	out, err := exec.Command("ip", "netns", "exec", ns, "nft", "list", "ruleset").CombinedOutput()
	if err != nil {
		l.t.Fatalf("nft list ruleset in %s: %v: %s", ns, err, out)
	}
	return string(out)
}

// qdiscs returns `tc qdisc show dev <ifname>` run in node's namespace.
func (l *testLab) qdiscs(node, ifname string) string {
	l.t.Helper()
	ns, err := l.Namespace(node)
	if err != nil {
		l.t.Fatal(err)
	}
	out, err := exec.Command("tc", "-n", ns, "qdisc", "show", "dev", ifname).CombinedOutput()
	if err != nil {
		l.t.Fatalf("tc qdisc show dev %s in %s: %v: %s", ifname, ns, err, out)
	}
	return string(out)
}

// nftIn runs nft with args inside node's namespace.
func (l *testLab) nftIn(node string, args ...string) {
	l.t.Helper()
	ns, err := l.Namespace(node)
	if err != nil {
		l.t.Fatal(err)
	}
	cmd := append([]string{"netns", "exec", ns, "nft"}, args...)
	if out, err := exec.Command("ip", cmd...).CombinedOutput(); err != nil {
		l.t.Fatalf("nft %s in %s: %v: %s", strings.Join(args, " "), ns, err, out)
	}
}

// mustInject injects f on t or fails the test.
func mustInject(tb testing.TB, f Fault, t Target) {
	tb.Helper()
	if err := f.Inject(context.Background(), t); err != nil {
		tb.Fatalf("inject %s: %v", f.Name(), err)
	}
}

// mustHeal heals f on t or fails the test.
func mustHeal(tb testing.TB, f Fault, t Target) {
	tb.Helper()
	if err := f.Heal(context.Background(), t); err != nil {
		tb.Fatalf("heal %s: %v", f.Name(), err)
	}
}

// mustAddr parses s or fails the test.
func mustAddr(tb testing.TB, s string) netip.Addr {
	tb.Helper()
	a, err := netip.ParseAddr(s)
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

// withLoopback adds addr/32 (or /128) to node's lo.
func withLoopback(node string, addr func(l *testLab) netip.Addr) labOption {
	return func(l *testLab, spec *netns.LabSpec) {
		a := addr(l)
		n := &spec.Nodes[index(node)]
		n.Loopbacks = append(n.Loopbacks, netip.PrefixFrom(a, a.BitLen()))
	}
}

// withRoute adds a route to node; route gets the lab for its addresses.
func withRoute(node string, route func(l *testLab) netns.Route) labOption {
	return func(l *testLab, spec *netns.LabSpec) {
		n := &spec.Nodes[index(node)]
		n.Routes = append(n.Routes, route(l))
	}
}
