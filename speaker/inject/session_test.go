package inject

import (
	"context"
	"hash/fnv"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/peerlab/peerlab/speaker"
)

// testNet is the loopback block and port of one test, derived from its
// name so that tests (and other packages') do not share them.
type testNet struct {
	a, b byte
	port int
}

func newTestNet(t testing.TB) testNet {
	h := fnv.New32a()
	h.Write([]byte("inject/" + t.Name()))
	v := h.Sum32()
	return testNet{a: byte(16 + v%224), b: byte(v >> 8), port: 20000 + int(v>>16)%20000}
}

func (n testNet) addr(i int) netip.Addr { return netip.AddrFrom4([4]byte{127, n.a, n.b, byte(i)}) }

// receiver starts a GoBGP speaker on address 2 of n that peers with an
// injector on address 1 (AS injAS), passive unless active is set.
func receiver(t *testing.T, n testNet, asn, injAS uint32, active bool) *speaker.Speaker {
	t.Helper()
	s, err := speaker.New(speaker.Config{
		Name: "receiver", ASN: asn, RouterID: n.addr(2), ListenAddress: n.addr(2), ListenPort: n.port,
		Families: []speaker.Family{speaker.IPv4Unicast, speaker.IPv6Unicast},
	})
	if err != nil {
		t.Fatalf("receiver: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Start(context.Background()); err != nil {
		t.Fatalf("receiver start: %v", err)
	}
	err = s.AddPeer(context.Background(), speaker.PeerConfig{
		Name: "injector", Address: n.addr(1), Port: n.port, LocalAddress: n.addr(2), ASN: injAS,
		Passive: !active, Families: []speaker.Family{speaker.IPv4Unicast, speaker.IPv6Unicast},
		Timers: speaker.Timers{Hold: 9 * time.Second, Keepalive: 3 * time.Second, ConnectRetry: time.Second},
	})
	if err != nil {
		t.Fatalf("receiver add peer: %v", err)
	}
	return s
}

// startInjector makes an injector on address 1 of n (not started) and
// closes it when the test ends.
func startInjector(t *testing.T, n testNet, asn, peerAS uint32, passive bool) *Injector {
	t.Helper()
	in, err := New(Config{
		Address: n.addr(1), AS: asn, Port: n.port, NextHop6: netip.MustParseAddr("2001:db8::1"),
		HoldTime: 9 * time.Second, Peers: []Peer{{Address: n.addr(2), AS: peerAS, Passive: passive}},
	})
	if err != nil {
		t.Fatalf("injector: %v", err)
	}
	t.Cleanup(func() { in.Close() })
	return in
}

// start starts in or fails the test.
func start(t *testing.T, in *Injector) {
	t.Helper()
	if err := in.Start(); err != nil {
		t.Fatalf("start injector: %v", err)
	}
}

// established starts an empty injector (AS 65001) and its receiver (AS
// 65002) on n and waits for the session to be up.
func established(t *testing.T, n testNet) (*Injector, *speaker.Speaker) {
	t.Helper()
	in := startInjector(t, n, 65001, 65002, false)
	start(t, in)
	rx := receiver(t, n, 65002, 65001, false)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := in.WaitSynced(ctx); err != nil {
		t.Fatal(err)
	}
	return in, rx
}

// adjIn returns what the receiver holds from the injector, by prefix.
func adjIn(t *testing.T, s *speaker.Speaker, from netip.Addr, f speaker.Family) map[netip.Prefix]speaker.Path {
	t.Helper()
	paths, err := s.RIB(context.Background(), speaker.TableAdjIn, from, f)
	if err != nil {
		t.Fatalf("adj-in: %v", err)
	}
	out := make(map[netip.Prefix]speaker.Path, len(paths))
	for _, p := range paths {
		out[p.Prefix] = p
	}
	return out
}

// waitFor polls cond every 50 ms until it holds or 20 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// generated is a Source of n /24s from 16.0.0.0, every third with a
// community, an AS path and a MED.
func generated(n int) Source {
	return func(yield func(speaker.Route) error) error {
		for i, p := range slash24s(n) {
			r := speaker.Route{Prefix: p}
			if i%3 == 1 {
				r.Communities, r.ASPath, r.MED = []string{"65000:7"}, []uint32{64600}, 70
			}
			if err := yield(r); err != nil {
				return err
			}
		}
		return nil
	}
}

func TestInjectorTableReachesGoBGP(t *testing.T) {
	for _, passive := range []bool{false, true} {
		name := "active"
		if passive {
			name = "passive"
		}
		t.Run(name, func(t *testing.T) {
			n := newTestNet(t)
			const total = 10000
			in := startInjector(t, n, 65001, 65002, passive)
			if err := in.Load(generated(total)); err != nil {
				t.Fatal(err)
			}
			start(t, in)
			rx := receiver(t, n, 65002, 65001, passive)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := in.WaitSynced(ctx); err != nil {
				t.Fatal(err)
			}
			var got map[netip.Prefix]speaker.Path
			waitFor(t, "10,000 routes at the receiver", func() bool {
				got = adjIn(t, rx, n.addr(1), speaker.IPv4Unicast)
				return len(got) == total
			})
			plain, rich := got[netip.MustParsePrefix("16.0.0.0/24")], got[netip.MustParsePrefix("16.0.1.0/24")]
			if plain.NextHop != n.addr(1) || len(plain.ASPath) != 1 || plain.ASPath[0] != 65001 || len(plain.Communities) != 0 {
				t.Errorf("16.0.0.0/24 arrived as %+v, want next hop %s, AS path [65001], no communities", plain, n.addr(1))
			}
			if len(rich.ASPath) != 2 || rich.ASPath[1] != 64600 || len(rich.Communities) != 1 || rich.Communities[0] != "65000:7" || rich.MED != 70 {
				t.Errorf("16.0.1.0/24 arrived as %+v, want AS path [65001 64600], community 65000:7, MED 70", rich)
			}
			st := in.Stats()[0]
			if st.PrefixesSent != total || st.UpdatesSent > 2*total/800 {
				t.Errorf("sent %d prefixes in %d UPDATEs, want %d in at most %d", st.PrefixesSent, st.UpdatesSent, total, 2*total/800)
			}
		})
	}
}

func TestInjectorLiveAnnounceAndWithdraw(t *testing.T) {
	n := newTestNet(t)
	in, rx := established(t, n)
	// Live: two batches, the second re-announcing part of the first with a MED.
	batch := make([]speaker.Route, 0, 5000)
	for _, p := range slash24s(5000) {
		batch = append(batch, speaker.Route{Prefix: p})
	}
	v6 := speaker.Route{Prefix: netip.MustParsePrefix("2001:db8:7::/48")}
	if err := in.Announce(append(batch, v6)); err != nil {
		t.Fatal(err)
	}
	if err := in.Announce([]speaker.Route{{Prefix: batch[0].Prefix, MED: 5}, {Prefix: batch[0].Prefix, MED: 9}}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := in.WaitSynced(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "5,000 IPv4 routes and 1 IPv6 route", func() bool {
		return len(adjIn(t, rx, n.addr(1), speaker.IPv4Unicast)) == 5000 && len(adjIn(t, rx, n.addr(1), speaker.IPv6Unicast)) == 1
	})
	waitFor(t, "the re-announcement (last of a batch wins: MED 9)", func() bool {
		return adjIn(t, rx, n.addr(1), speaker.IPv4Unicast)[batch[0].Prefix].MED == 9
	})
	st := in.Stats()[0]
	if per := float64(st.PrefixesSent) / float64(st.UpdatesSent); per < 500 {
		t.Errorf("live batches went out at %.0f prefixes per UPDATE, want at least 500", per)
	}
	prefixes := []netip.Prefix{v6.Prefix}
	for _, r := range batch {
		prefixes = append(prefixes, r.Prefix)
	}
	if err := in.Withdraw(prefixes); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the receiver's table to empty", func() bool {
		return len(adjIn(t, rx, n.addr(1), speaker.IPv4Unicast)) == 0 && len(adjIn(t, rx, n.addr(1), speaker.IPv6Unicast)) == 0
	})
}

func TestInjectorBadPeerAS(t *testing.T) {
	n := newTestNet(t)
	in := startInjector(t, n, 65001, 65009, false) // the receiver is 65002
	start(t, in)
	receiver(t, n, 65002, 65001, false)
	var st PeerStats
	waitFor(t, "the session to fail with Bad Peer AS", func() bool {
		st = in.Stats()[0]
		return strings.Contains(st.LastError, "notification sent: 2/2")
	})
	if st.State == StateEstablished {
		t.Errorf("session is Established with the wrong AS")
	}
	if nf := st.Notification; nf == nil || nf.Code != 2 || nf.Subcode != 2 || nf.Direction != "sent" {
		t.Errorf("Notification = %+v, want 2/2 sent", nf)
	}
}

func TestInjectorReconnectReplaysTable(t *testing.T) {
	n := newTestNet(t)
	in := startInjector(t, n, 65001, 65002, false)
	if err := in.Load(generated(3000)); err != nil {
		t.Fatal(err)
	}
	start(t, in)
	rx := receiver(t, n, 65002, 65001, false)
	waitFor(t, "3,000 routes", func() bool { return len(adjIn(t, rx, n.addr(1), speaker.IPv4Unicast)) == 3000 })
	if err := in.Withdraw(slash24s(1000)); err != nil {
		t.Fatal(err)
	}
	if err := rx.ResetPeer(context.Background(), n.addr(1)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a second connection", func() bool { return in.Stats()[0].Connects >= 2 && in.Stats()[0].Synced })
	waitFor(t, "2,000 routes after the replay", func() bool { return len(adjIn(t, rx, n.addr(1), speaker.IPv4Unicast)) == 2000 })
}

func TestConfigErrors(t *testing.T) {
	a, b := netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("127.0.0.2")
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no address", Config{AS: 1, Peers: []Peer{{Address: b, AS: 2}}}, "address is required"},
		{"no peers", Config{Address: a, AS: 1}, "no peers"},
		{"mixed ibgp and ebgp", Config{Address: a, AS: 1, Peers: []Peer{{Address: b, AS: 2}, {Address: a, AS: 1}}}, "mixes iBGP and eBGP"},
		{"peer twice", Config{Address: a, AS: 1, Peers: []Peer{{Address: b, AS: 2}, {Address: b, AS: 2}}}, "listed twice"},
		{"short hold", Config{Address: a, AS: 1, HoldTime: time.Second, Peers: []Peer{{Address: b, AS: 2}}}, "hold time"},
		{"ipv6 router id", Config{Address: netip.MustParseAddr("::1"), AS: 1, Peers: []Peer{{Address: b, AS: 2}}}, "router id"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in, err := New(tc.cfg)
			if err == nil {
				in.Close()
				t.Fatalf("New = nil error, want %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestInjectorCloseSendsCease(t *testing.T) {
	n := newTestNet(t)
	in, rx := established(t, n)
	if err := in.Close(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the receiver to see a Cease", func() bool {
		st, err := rx.Peer(context.Background(), n.addr(1))
		return err == nil && st.State != speaker.StateEstablished && st.Notification != nil && st.Notification.Code == 6 && !st.Notification.Sent
	})
}

func TestIPv6NextHopDefaultsToMappedAddress(t *testing.T) {
	in, err := New(Config{Address: netip.MustParseAddr("10.0.0.1"), AS: 65001,
		Peers: []Peer{{Address: netip.MustParseAddr("10.0.0.2"), AS: 65002}}})
	if err != nil {
		t.Fatal(err)
	}
	pfx := netip.MustParsePrefix("2001:db8:5::/48")
	if err := in.Announce([]speaker.Route{{Prefix: pfx}}); err != nil {
		t.Fatalf("announce an IPv6 route without a next hop: %v", err)
	}
	msgs, _ := in.journal.from(0)
	got, _ := parseAll(t, msgs)
	if nh := got[pfx].nextHop; nh != netip.MustParseAddr("::ffff:10.0.0.1") {
		t.Errorf("next hop %v, want ::ffff:10.0.0.1", nh)
	}
}
