package speaker

import (
	"context"
	"errors"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"
)

// gobgpQueueLeak is the frame of the goroutine GoBGP v4.8.0 leaves behind
// for a session stopped with messages still queued (its fsm.go drains the
// queue without waiting for the queue's goroutine). Close cannot reach it,
// so the count below leaves it out, and only it.
const gobgpQueueLeak = "channels.(*InfiniteChannel).infiniteBuffer"

// countGoroutines counts the running goroutines except GoBGP's queue leak,
// and returns the dump it counted from.
func countGoroutines() (int, string) {
	buf := make([]byte, 4<<20)
	dump := string(buf[:runtime.Stack(buf, true)])
	n := 0
	for _, g := range strings.Split(dump, "\n\n") {
		if strings.HasPrefix(g, "goroutine ") && !strings.Contains(g, gobgpQueueLeak) {
			n++
		}
	}
	return n, dump
}

// waitGoroutines waits until at most max goroutines (as countGoroutines
// counts them) run, and fails with a dump of them if that does not happen.
func waitGoroutines(t *testing.T, max int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, dump := countGoroutines()
		if n <= max {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines left, want at most %d:\n%s", n, max, dump)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestCloseLeavesNoGoroutines is not parallel: it counts the goroutines of
// the whole test binary.
func TestCloseLeavesNoGoroutines(t *testing.T) {
	before, _ := countGoroutines()
	n := newTestNet(t)
	mk := func(i int, name string) *Speaker {
		s, err := New(Config{Name: name, ASN: 64512, RouterID: n.addr(i), ListenAddress: n.addr(i), ListenPort: n.port, Logger: testLogger(t)})
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		return s
	}
	a, b := mk(1, "a"), mk(2, "b")
	for _, s := range []*Speaker{a, b} {
		if err := s.Start(context.Background()); err != nil {
			t.Fatalf("Start: %v", err)
		}
	}
	// The subscriber calls back into the speaker, also while it closes.
	unsub := a.Subscribe(func(Event) { _, _ = a.Peers(context.Background()) })
	defer unsub()
	addPeer(t, a, peerOf(n, b, 2))
	addPeer(t, b, peerOf(n, a, 1))
	waitState(t, a, n.addr(2), StateEstablished)
	if err := a.Announce(context.Background(), []Route{{Prefix: netip.MustParsePrefix("10.0.0.0/8")}}); err != nil {
		t.Fatalf("Announce: %v", err)
	}

	waitFor(t, 10*time.Second, "route at b", func() bool {
		return len(rib(t, b, TableAdjIn, n.addr(1), IPv4Unicast)) == 1
	})
	for i := 0; i < 2; i++ {
		for _, s := range []*Speaker{a, b} {
			if err := s.Close(); err != nil {
				t.Fatalf("Close #%d of %s: %v", i+1, s.Name(), err)
			}
		}
	}
	waitGoroutines(t, before)

	// A speaker that was never started closes cleanly too.
	c := mk(3, "c")
	if err := c.Close(); err != nil {
		t.Fatalf("Close of unstarted speaker: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close of unstarted speaker: %v", err)
	}
	waitGoroutines(t, before)
}

func TestLifecycleErrors(t *testing.T) {
	t.Parallel()
	n := newTestNet(t)
	s, err := New(Config{Name: "s", ASN: 64512, RouterID: n.addr(1), ListenAddress: n.addr(1), ListenPort: -1})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx := context.Background()
	peer := PeerConfig{Address: n.addr(2), ASN: 64512}
	if err := s.AddPeer(ctx, peer); !errors.Is(err, ErrNotStarted) {
		t.Errorf("AddPeer before Start: err = %v, want ErrNotStarted", err)
	}
	if _, err := s.Peers(ctx); !errors.Is(err, ErrNotStarted) {
		t.Errorf("Peers before Start: err = %v, want ErrNotStarted", err)
	}
	if err := s.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if err := s.Start(ctx); err == nil {
		t.Error("second Start succeeded, want an error")
	}
	if _, err := s.Peer(ctx, n.addr(9)); !errors.Is(err, ErrPeerNotFound) {
		t.Errorf("Peer(unknown): err = %v, want ErrPeerNotFound", err)
	}
	if err := s.ResetPeer(ctx, n.addr(9)); !errors.Is(err, ErrPeerNotFound) {
		t.Errorf("ResetPeer(unknown): err = %v, want ErrPeerNotFound", err)
	}
	if _, err := s.RIB(ctx, TableAdjIn, n.addr(9), IPv4Unicast); !errors.Is(err, ErrPeerNotFound) {
		t.Errorf("RIB(adj-in, unknown): err = %v, want ErrPeerNotFound", err)
	}
	if err := s.AddPeer(ctx, peer); err != nil {
		t.Fatalf("AddPeer: %v", err)
	}
	if err := s.AddPeer(ctx, peer); err == nil || !strings.Contains(err.Error(), "already configured") {
		t.Errorf("duplicate AddPeer: err = %v, want already configured", err)
	}
	ps, err := s.Peers(ctx)
	if err != nil || len(ps) != 1 || ps[0].Address != n.addr(2) {
		t.Errorf("Peers = %+v, %v; want the one peer", ps, err)
	}
	// Without a listener the speaker still originates routes, with the
	// listen address as next hop.
	pfx := netip.MustParsePrefix("192.0.2.0/24")
	if err := s.Announce(ctx, []Route{{Prefix: pfx}}); err != nil {
		t.Fatalf("Announce: %v", err)
	}
	got, ok := findPath(rib(t, s, TableBest, netip.Addr{}, IPv4Unicast), pfx)
	if !ok || got.NextHop != n.addr(1) || got.From.IsValid() {
		t.Errorf("local path = %+v (found %v), want next hop %v and no From", got, ok, n.addr(1))
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Announce(ctx, []Route{{Prefix: pfx}}); !errors.Is(err, ErrClosed) {
		t.Errorf("Announce after Close: err = %v, want ErrClosed", err)
	}
	if err := s.Start(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("Start after Close: err = %v, want ErrClosed", err)
	}
}

func TestSubscribeOrderAndUnsubscribe(t *testing.T) {
	t.Parallel()
	d := newDispatcher(testLogger(t))
	d.start()
	defer d.stop()
	got := make(chan State, 10)
	unsub := d.subscribe(func(e Event) { got <- e.To })
	d.subscribe(func(Event) { panic("a subscriber panics") })
	want := []State{StateActive, StateOpenSent, StateOpenConfirm, StateEstablished}
	for _, s := range want {
		d.publish(Event{To: s})
	}
	for i, w := range want {
		select {
		case s := <-got:
			if s != w {
				t.Fatalf("event %d = %s, want %s", i, s, w)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("event %d not delivered", i)
		}
	}
	unsub()
	unsub()
	d.publish(Event{To: StateIdle})
	select {
	case s := <-got:
		t.Errorf("event %s delivered after unsubscribe", s)
	case <-time.After(200 * time.Millisecond):
	}
}
