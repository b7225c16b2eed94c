package speaker

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"
)

func TestRouteReflector(t *testing.T) {
	t.Parallel()
	n := newTestNet(t)
	cluster := netip.MustParseAddr("10.255.0.1")
	rr, err := New(Config{
		Name: "rr", ASN: 64512, RouterID: n.addr(1), ListenAddress: n.addr(1),
		ListenPort: n.port, ClusterID: cluster, Logger: testLogger(t),
	})
	if err != nil {
		t.Fatalf("New(rr): %v", err)
	}
	t.Cleanup(func() { rr.Close() })
	if err := rr.Start(context.Background()); err != nil {
		t.Fatalf("Start(rr): %v", err)
	}
	c1 := startSpeaker(t, n, 2, "client1", 64512)
	c2 := startSpeaker(t, n, 3, "client2", 64512)
	for i, c := range []*Speaker{c1, c2} {
		p := peerOf(n, c, i+2)
		p.RouteReflectorClient = true
		addPeer(t, rr, p)
		addPeer(t, c, peerOf(n, rr, 1))
	}
	waitState(t, c1, n.addr(1), StateEstablished)
	waitState(t, c2, n.addr(1), StateEstablished)

	pfx := netip.MustParsePrefix("10.1.0.0/24")
	err = c1.Announce(context.Background(), []Route{{Prefix: pfx, Communities: []string{"64512:100"}, MED: 7, LocalPref: 200}})
	if err != nil {
		t.Fatalf("Announce: %v", err)
	}
	var got Path
	waitFor(t, 10*time.Second, "prefix at client2", func() bool {
		var ok bool
		got, ok = findPath(rib(t, c2, TableBest, netip.Addr{}, IPv4Unicast), pfx)
		return ok
	})
	if got.OriginatorID != c1.cfg.RouterID {
		t.Errorf("ORIGINATOR_ID = %v, want client1's router id %v", got.OriginatorID, c1.cfg.RouterID)
	}
	if !slices.Equal(got.ClusterList, []netip.Addr{cluster}) {
		t.Errorf("CLUSTER_LIST = %v, want [%v]", got.ClusterList, cluster)
	}
	if !slices.Equal(got.Communities, []string{"64512:100"}) {
		t.Errorf("communities = %v, want [64512:100]", got.Communities)
	}
	if got.NextHop != n.addr(2) || got.MED != 7 || got.LocalPref != 200 || len(got.ASPath) != 0 || !got.Best || got.From != n.addr(1) {
		t.Errorf("path = %+v, want next hop %v, MED 7, LOCAL_PREF 200, empty AS path, best, from the RR", got, n.addr(2))
	}
	in := rib(t, c2, TableAdjIn, n.addr(1), IPv4Unicast)
	if _, ok := findPath(in, pfx); !ok {
		t.Errorf("adj-in of client2 from rr = %+v, want %v", in, pfx)
	}
	out := rib(t, rr, TableAdjOut, n.addr(3), IPv4Unicast)
	if _, ok := findPath(out, pfx); !ok {
		t.Errorf("adj-out of rr to client2 = %+v, want %v", out, pfx)
	}

	if err := c1.Withdraw(context.Background(), []netip.Prefix{pfx}); err != nil {
		t.Fatalf("Withdraw: %v", err)
	}
	waitFor(t, 10*time.Second, "withdrawal at client2", func() bool {
		_, ok := findPath(rib(t, c2, TableBest, netip.Addr{}, IPv4Unicast), pfx)
		return !ok
	})
}

func TestEBGPPrepend(t *testing.T) {
	t.Parallel()
	n := newTestNet(t)
	a := startSpeaker(t, n, 1, "a", 64512)
	b := startSpeaker(t, n, 2, "b", 64513)
	addPeer(t, a, peerOf(n, b, 2))
	addPeer(t, b, peerOf(n, a, 1))
	waitState(t, a, n.addr(2), StateEstablished)

	pfx := netip.MustParsePrefix("10.9.0.0/16")
	if err := a.Announce(context.Background(), []Route{{Prefix: pfx, Prepend: 2}}); err != nil {
		t.Fatalf("Announce: %v", err)
	}
	var got Path
	waitFor(t, 10*time.Second, "prefix at b", func() bool {
		var ok bool
		got, ok = findPath(rib(t, b, TableBest, netip.Addr{}, IPv4Unicast), pfx)
		return ok
	})
	if want := []uint32{64512, 64512, 64512}; !slices.Equal(got.ASPath, want) {
		t.Errorf("AS path = %v, want %v (own AS added by eBGP plus 2 prepends)", got.ASPath, want)
	}
}

func TestBulkAnnounce(t *testing.T) {
	t.Parallel()
	n := newTestNet(t)
	a := startSpeaker(t, n, 1, "a", 64512)
	b := startSpeaker(t, n, 2, "b", 64512)
	addPeer(t, a, peerOf(n, b, 2))
	addPeer(t, b, peerOf(n, a, 1))
	waitState(t, a, n.addr(2), StateEstablished)
	waitState(t, b, n.addr(1), StateEstablished)

	const count = 10000
	routes := make([]Route, count)
	for i := range routes {
		routes[i] = Route{Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 0}), 24)}
	}
	if err := a.Announce(context.Background(), routes); err != nil {
		t.Fatalf("Announce: %v", err)
	}
	var got int
	waitFor(t, 30*time.Second, fmt.Sprintf("%d prefixes in b's adj-in", count), func() bool {
		got = len(rib(t, b, TableAdjIn, n.addr(1), IPv4Unicast))
		return got == count
	})
	if best := len(rib(t, b, TableBest, netip.Addr{}, IPv4Unicast)); best != count {
		t.Errorf("b has %d best paths, want %d", best, count)
	}
}

func TestIPv6OverIPv4Session(t *testing.T) {
	t.Parallel()
	n := newTestNet(t)
	both := []Family{IPv4Unicast, IPv6Unicast}
	a := startSpeaker(t, n, 1, "a", 64512, both...)
	b := startSpeaker(t, n, 2, "b", 64513, both...)
	pa, pb := peerOf(n, b, 2), peerOf(n, a, 1)
	pa.Families, pb.Families = both, both
	addPeer(t, a, pa)
	addPeer(t, b, pb)
	waitState(t, a, n.addr(2), StateEstablished)

	v6 := netip.MustParsePrefix("2001:db8:1::/48")
	v4 := netip.MustParsePrefix("10.6.0.0/24")
	if err := a.Announce(context.Background(), []Route{{Prefix: v6}, {Prefix: v4}}); err != nil {
		t.Fatalf("Announce: %v", err)
	}
	var got Path
	waitFor(t, 10*time.Second, "IPv6 prefix at b", func() bool {
		var ok bool
		got, ok = findPath(rib(t, b, TableBest, netip.Addr{}, IPv6Unicast), v6)
		return ok
	})
	if want := netip.AddrFrom16(n.addr(1).As16()); got.NextHop != want {
		t.Errorf("IPv6 next hop = %v, want the IPv4-mapped listen address %v", got.NextHop, want)
	}
	if !slices.Equal(got.ASPath, []uint32{64512}) {
		t.Errorf("AS path = %v, want [64512]", got.ASPath)
	}
	waitFor(t, 10*time.Second, "IPv4 prefix at b", func() bool {
		_, ok := findPath(rib(t, b, TableBest, netip.Addr{}, IPv4Unicast), v4)
		return ok
	})
	if err := a.Withdraw(context.Background(), []netip.Prefix{v6}); err != nil {
		t.Fatalf("Withdraw: %v", err)
	}
	waitFor(t, 10*time.Second, "IPv6 withdrawal at b", func() bool {
		_, ok := findPath(rib(t, b, TableBest, netip.Addr{}, IPv6Unicast), v6)
		return !ok
	})
}
