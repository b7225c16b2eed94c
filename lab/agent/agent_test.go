package agent

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/peerlab/peerlab/speaker"
)

// eventRecorder long-polls an agent's events in the background.
type eventRecorder struct {
	mu     sync.Mutex
	events []Event
	missed uint64
	cancel context.CancelFunc
	done   chan struct{}
}

func recordEvents(c *Client) *eventRecorder {
	ctx, cancel := context.WithCancel(context.Background())
	r := &eventRecorder{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		var since uint64
		for ctx.Err() == nil {
			evs, next, missed, err := c.Events(ctx, since, time.Second)
			if err != nil {
				return
			}
			r.mu.Lock()
			r.events = append(r.events, evs...)
			r.missed += missed
			r.mu.Unlock()
			since = next
		}
	}()
	return r
}

// reached reports whether an event took peer to state.
func (r *eventRecorder) reached(peer string, to speaker.State) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.events {
		if e.Peer == peer && e.To == to {
			return true
		}
	}
	return false
}

// TestTwoAgentsPeer drives two real speakers through their agents: the
// session comes up both ways, a route announced at one reaches the other's
// RIB, the long poll delivers the transitions, and Close ends Serve.
func TestTwoAgentsPeer(t *testing.T) {
	t.Parallel()
	n := newTestNet(t)
	a, b := serveAgent(t, "a"), serveAgent(t, "b")
	recA, recB := recordEvents(a.client), recordEvents(b.client)
	ctx := context.Background()
	for i, ag := range []*servedAgent{a, b} {
		name := []string{"a", "b"}[i]
		err := ag.client.Start(ctx, StartConfig{
			Name: name, ASN: 64512, RouterID: n.addr(i + 1), ListenAddress: n.addr(i + 1), ListenPort: n.port,
			Families: []speaker.Family{speaker.IPv4Unicast},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// b waits for a to connect (see lab.passiveEnd for why one end waits).
	if err := b.client.AddPeer(ctx, speaker.PeerConfig{Name: "a", Address: n.addr(1), Port: n.port,
		LocalAddress: n.addr(2), ASN: 64512, Passive: true, Timers: testTimers}); err != nil {
		t.Fatal(err)
	}
	if err := a.client.AddPeer(ctx, speaker.PeerConfig{Name: "b", Address: n.addr(2), Port: n.port,
		LocalAddress: n.addr(1), ASN: 64512, Timers: testTimers}); err != nil {
		t.Fatal(err)
	}
	prefix := netip.MustParsePrefix("10.244.7.0/24")
	nextHop := netip.MustParseAddr("10.0.0.7")
	if err := a.client.Announce(ctx, []speaker.Route{{Prefix: prefix, NextHop: nextHop, Communities: []string{"64512:7"}}}); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		ag   *servedAgent
		peer string
	}{{a, "b"}, {b, "a"}} {
		waitFor(t, 20*time.Second, c.peer+" Established", func() (bool, error) {
			ps, err := c.ag.client.Peers(ctx)
			if err != nil {
				return false, err
			}
			return len(ps) == 1 && ps[0].Peer == c.peer && ps[0].State == speaker.StateEstablished, nil
		})
	}
	var got speaker.Path
	waitFor(t, 10*time.Second, "route at b", func() (bool, error) {
		paths, err := b.client.RIB(ctx, speaker.TableBest, netip.Addr{}, speaker.IPv4Unicast)
		for _, p := range paths {
			if p.Prefix == prefix {
				got = p
				return true, nil
			}
		}
		return false, err
	})
	if got.NextHop != nextHop || got.From != n.addr(1) || len(got.Communities) != 1 || got.Communities[0] != "64512:7" {
		t.Errorf("b's path = %+v, want next hop %v from %v with community 64512:7", got, nextHop, n.addr(1))
	}
	adjIn, err := b.client.RIB(ctx, speaker.TableAdjIn, n.addr(1), speaker.IPv4Unicast)
	if err != nil || len(adjIn) != 1 {
		t.Errorf("b's adj-RIB-in from a = %v, %v; want the one path", adjIn, err)
	}

	waitFor(t, 5*time.Second, "Established events from both long polls", func() (bool, error) {
		return recA.reached("b", speaker.StateEstablished) && recB.reached("a", speaker.StateEstablished), nil
	})
	recA.mu.Lock()
	for i, e := range recA.events {
		if e.Seq != uint64(i+1) || e.Speaker != "a" {
			t.Errorf("a's event %d = seq %d speaker %q, want seq %d speaker a", i, e.Seq, e.Speaker, i+1)
		}
	}
	recA.mu.Unlock()

	// Closing a: the call is answered, Serve returns nil, b sees the
	// session drop, and a's long poll ends.
	if err := a.client.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case err := <-a.done:
		if err != nil {
			t.Errorf("Serve after Close = %v, want nil", err)
		}
		a.done <- err // for the cleanup
	case <-time.After(5 * time.Second):
		t.Fatal("Serve still running 5 s after Close")
	}
	select {
	case <-recA.done:
	case <-time.After(5 * time.Second):
		t.Error("a's long poll still running 5 s after Close")
	}
	waitFor(t, 10*time.Second, "b to see a go down", func() (bool, error) {
		recB.mu.Lock()
		defer recB.mu.Unlock()
		last := recB.events[len(recB.events)-1]
		return last.Peer == "a" && last.From == speaker.StateEstablished, nil
	})
	recB.cancel()
	<-recB.done
}

// TestErrorsCrossTheSocket checks that the speaker's sentinel errors
// survive the trip, and that the agent refuses what it should.
func TestErrorsCrossTheSocket(t *testing.T) {
	t.Parallel()
	n := newTestNet(t)
	a := serveAgent(t, "a")
	ctx := context.Background()
	cfg := StartConfig{Name: "a", ASN: 64512, RouterID: n.addr(1), ListenPort: -1}

	if _, err := a.client.Peers(ctx); !errors.Is(err, speaker.ErrNotStarted) {
		t.Errorf("Peers before Start = %v, want ErrNotStarted", err)
	}
	bad := cfg
	bad.ASN = 0
	if err := a.client.Start(ctx, bad); err == nil {
		t.Error("Start with ASN 0 succeeded")
	}
	if err := a.client.Start(ctx, cfg); err != nil {
		t.Fatalf("Start after a refused Start: %v", err)
	}
	if err := a.client.Start(ctx, cfg); err == nil {
		t.Error("second Start succeeded")
	}
	err := a.client.DeletePeer(ctx, n.addr(9))
	var re *RemoteError
	if !errors.Is(err, speaker.ErrPeerNotFound) || !errors.As(err, &re) {
		t.Errorf("DeletePeer(unknown) = %v, want a RemoteError wrapping ErrPeerNotFound", err)
	}
	// A deadline shorter than the long poll's wait ends the call.
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if _, _, _, err := a.client.Events(short, 0, 5*time.Second); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Events past its deadline = %v, want DeadlineExceeded", err)
	}
	// The connection still works after an abandoned call.
	if ps, err := a.client.Peers(ctx); err != nil || len(ps) != 0 {
		t.Errorf("Peers = %v, %v; want none", ps, err)
	}
}
