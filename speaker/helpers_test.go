package speaker

import (
	"context"
	"hash/fnv"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/peerlab/peerlab/internal/testgate"
)

// testTimers are the short session timers every test uses.
var testTimers = Timers{Hold: 3 * time.Second, Keepalive: time.Second, ConnectRetry: time.Second}

// establishTimeout bounds how long a test waits for a session: GoBGP's
// first connect attempt alone waits 1.5-2 s, a collision or a retry 2 s more.
const establishTimeout = 20 * time.Second

// testNet is the loopback block and port one test owns. Both are derived
// from the test name, so parallel tests (and other packages' tests) do not
// share addresses.
type testNet struct {
	a, b byte
	port int
}

func newTestNet(t testing.TB) testNet {
	h := fnv.New32a()
	h.Write([]byte(t.Name()))
	v := h.Sum32()
	return testNet{
		a:    byte(16 + v%224),
		b:    byte(v >> 8),
		port: 20000 + int(v>>16)%20000,
	}
}

// addr returns the i-th host address (1-254) of the test's block.
func (n testNet) addr(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{127, n.a, n.b, byte(i)})
}

// requireRoot skips a test that needs root, except under CI=true, where
// not being root is a failure.
func requireRoot(t *testing.T) {
	t.Helper()
	testgate.RequireRoot(t, "TCP MD5 signatures")
}

// testLogger is silent unless PEERLAB_DEBUG=1, which logs everything
// (GoBGP included) to stderr. It is not tied to t, because GoBGP may still
// log from its goroutines while a test's cleanup runs.
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

// startSpeaker creates and starts a speaker on the i-th address of n and
// closes it when the test ends.
func startSpeaker(t *testing.T, n testNet, i int, name string, asn uint32, families ...Family) *Speaker {
	t.Helper()
	s, err := New(Config{
		Name:          name,
		ASN:           asn,
		RouterID:      n.addr(i),
		ListenAddress: n.addr(i),
		ListenPort:    n.port,
		Families:      families,
		Logger:        testLogger(t),
	})
	if err != nil {
		t.Fatalf("New(%s): %v", name, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close(%s): %v", name, err)
		}
	})
	if err := s.Start(context.Background()); err != nil {
		t.Fatalf("Start(%s): %v", name, err)
	}
	return s
}

// peerOf is the PeerConfig by which one speaker knows another.
func peerOf(n testNet, s *Speaker, i int) PeerConfig {
	return PeerConfig{
		Name:    s.Name(),
		Address: n.addr(i),
		Port:    n.port,
		ASN:     s.cfg.ASN,
		Timers:  testTimers,
	}
}

func addPeer(t *testing.T, s *Speaker, p PeerConfig) {
	t.Helper()
	if err := s.AddPeer(context.Background(), p); err != nil {
		t.Fatalf("%s.AddPeer(%v): %v", s.Name(), p.Address, err)
	}
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// peerStatus fetches one peer's status or fails the test.
func peerStatus(t *testing.T, s *Speaker, addr netip.Addr) PeerStatus {
	t.Helper()
	st, err := s.Peer(context.Background(), addr)
	if err != nil {
		t.Fatalf("%s.Peer(%v): %v", s.Name(), addr, err)
	}
	return st
}

// waitState waits until s reports the session to addr in state want.
func waitState(t *testing.T, s *Speaker, addr netip.Addr, want State) {
	t.Helper()
	waitFor(t, establishTimeout, s.Name()+" -> "+addr.String()+" "+string(want), func() bool {
		return peerStatus(t, s, addr).State == want
	})
}

// neverState asserts that the session to addr does not reach st during d.
func neverState(t *testing.T, s *Speaker, addr netip.Addr, st State, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if got := peerStatus(t, s, addr).State; got == st {
			t.Fatalf("%s -> %v reached %s, want it never to", s.Name(), addr, st)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// eventLog records a speaker's events for later inspection.
type eventLog struct {
	mu     sync.Mutex
	events []Event
}

func recordEvents(t *testing.T, s *Speaker) *eventLog {
	l := &eventLog{}
	unsub := s.Subscribe(func(e Event) {
		l.mu.Lock()
		l.events = append(l.events, e)
		l.mu.Unlock()
	})
	t.Cleanup(unsub)
	return l
}

func (l *eventLog) snapshot() []Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Event(nil), l.events...)
}

// rib reads a table or fails the test.
func rib(t *testing.T, s *Speaker, tbl Table, peer netip.Addr, f Family) []Path {
	t.Helper()
	paths, err := s.RIB(context.Background(), tbl, peer, f)
	if err != nil {
		t.Fatalf("%s.RIB(%d, %v, %s): %v", s.Name(), tbl, peer, f, err)
	}
	return paths
}

func findPath(paths []Path, pfx netip.Prefix) (Path, bool) {
	for _, p := range paths {
		if p.Prefix == pfx {
			return p, true
		}
	}
	return Path{}, false
}
