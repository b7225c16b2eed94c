package bird

import (
	"context"
	"net/netip"
	"testing"
	"time"
)

// waitProtocol polls ShowProtocols until the named protocol satisfies ok.
func waitProtocol(t *testing.T, n *labNode, name, what string, ok func(Protocol) bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	var last []Protocol
	for {
		ps, err := n.client.ShowProtocols(ctx)
		if err == nil {
			last = ps
			for _, p := range ps {
				if p.Name == name && ok(p) {
					return
				}
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: timed out waiting for %s %s; last show protocols: %+v (err %v)", n.version, name, what, last, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// TestIntegrationBird1Bird2Mesh runs a real BIRD 1.6 and a real BIRD 2 on
// loopback addresses with RenderConfig's Calico mesh configs, and checks the
// session through the Go client: Established on both, down after Disable,
// back after Enable.
func TestIntegrationBird1Bird2Mesh(t *testing.T) {
	a1, a2, _ := labAddrs()
	p1, p2 := labPorts()
	peer1 := Peer{Name: "node-bird2", Address: a2, Port: p2, ASN: 64512, Kind: KindMesh}
	peer2 := Peer{Name: "node-bird1", Address: a1, Port: p1, ASN: 64512, Kind: KindMesh}
	n1 := startNode(t, Bird1, Config{ASN: 64512, NodeIP: a1, ListenPort: p1,
		Prefixes: []netip.Prefix{netip.MustParsePrefix("10.244.1.0/26")}, Peers: []Peer{peer1}})
	n2 := startNode(t, Bird2, Config{ASN: 64512, NodeIP: a2, ListenPort: p2, StrictBind: true,
		Prefixes: []netip.Prefix{netip.MustParsePrefix("10.244.2.0/26")}, Peers: []Peer{peer2}})
	name1, name2 := ProtocolName(peer1), ProtocolName(peer2)
	established := func(p Protocol) bool { return p.State == "up" && p.Established() }

	waitProtocol(t, n1, name1, "Established", established)
	waitProtocol(t, n2, name2, "Established", established)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	d1 := waitDetail(t, n1, name1, 20*time.Second, "the peer's block imported", func(d ProtocolDetail) bool { return d.Routes.Imported == 1 })
	if d1.NeighborAddress != a2.String() || d1.SourceAddress != a1.String() {
		t.Errorf("bird1 detail: neighbor %s source %s, want %s and %s", d1.NeighborAddress, d1.SourceAddress, a2, a1)
	}
	if n, err := n2.client.ShowRouteCount(ctx); err != nil || n < 2 {
		t.Errorf("bird2 route count = %d, %v; want at least its own and bird1's block", n, err)
	}

	// Disable on the BIRD 1.6 side: its protocol goes down, BIRD 2 loses the session.
	if err := n1.client.Disable(ctx, name1); err != nil {
		t.Fatalf("Disable: %v", err)
	}
	waitProtocol(t, n1, name1, "down", func(p Protocol) bool { return p.State == "down" })
	waitProtocol(t, n2, name2, "not Established", func(p Protocol) bool { return !p.Established() })

	if err := n1.client.Enable(ctx, name1); err != nil {
		t.Fatalf("Enable: %v", err)
	}
	waitProtocol(t, n1, name1, "Established again", established)
	waitProtocol(t, n2, name2, "Established again", established)

	// Same round trip from the BIRD 2 side.
	if err := n2.client.Disable(ctx, name2); err != nil {
		t.Fatalf("Disable bird2: %v", err)
	}
	waitProtocol(t, n2, name2, "down", func(p Protocol) bool { return p.State == "down" })
	if err := n2.client.Enable(ctx, name2); err != nil {
		t.Fatalf("Enable bird2: %v", err)
	}
	waitProtocol(t, n2, name2, "Established again", established)
	waitProtocol(t, n1, name1, "Established again", established)

	// Reconfigure with the unchanged file keeps the session.
	for _, n := range []*labNode{n1, n2} {
		if err := n.client.Configure(ctx); err != nil {
			t.Errorf("%s configure: %v", n.version, err)
		}
	}
	if err := n1.client.Disable(ctx, "NoSuchProtocol"); ErrorCode(err) == 0 {
		t.Errorf("disable of an unknown protocol: err = %v, want a BIRD error code", err)
	}
}
