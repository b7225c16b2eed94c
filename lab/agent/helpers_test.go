package agent

import (
	"context"
	"hash/fnv"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/peerlab/peerlab/speaker"
)

// testTimers are short session timers.
var testTimers = speaker.Timers{Hold: 3 * time.Second, Keepalive: time.Second, ConnectRetry: time.Second}

// testNet is the 127.a.b.0/24 block and port one test owns, derived from
// the test name so parallel tests (and other packages') do not collide.
type testNet struct {
	a, b byte
	port int
}

func newTestNet(t testing.TB) testNet {
	h := fnv.New32a()
	h.Write([]byte("lab/agent/" + t.Name()))
	v := h.Sum32()
	return testNet{a: byte(16 + v%224), b: byte(v >> 8), port: 20000 + int(v>>16)%20000}
}

func (n testNet) addr(i int) netip.Addr { return netip.AddrFrom4([4]byte{127, n.a, n.b, byte(i)}) }

// testLogger is silent unless PEERLAB_DEBUG=1.
func testLogger(t testing.TB) *zap.Logger {
	if os.Getenv("PEERLAB_DEBUG") != "1" {
		return zap.NewNop()
	}
	l, err := zap.NewDevelopment()
	if err != nil {
		t.Fatalf("debug logger: %v", err)
	}
	return l.With(zap.String("test", t.Name()))
}

// servedAgent is an agent served in-process on a temporary socket.
type servedAgent struct {
	path   string
	client *Client
	done   chan error // receives Serve's result
}

// serveAgent serves an agent in-process and dials it. At the end of the
// test the agent is stopped (if the test did not) and Serve must have
// returned.
func serveAgent(t *testing.T, name string) *servedAgent {
	t.Helper()
	path := filepath.Join(t.TempDir(), name+".sock")
	ln, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a := &servedAgent{path: path, done: make(chan error, 1)}
	go func() { a.done <- Serve(ctx, ln, testLogger(t).With(zap.String("agent", name))) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-a.done:
		case <-time.After(10 * time.Second):
			t.Errorf("agent %s: Serve did not return 10 s after its context ended", name)
		}
	})
	a.client, err = Dial(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.client.Disconnect() })
	return a
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() (bool, error)) {
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
