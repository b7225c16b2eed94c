package capture

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	api "github.com/osrg/gobgp/v4/api"
	"github.com/osrg/gobgp/v4/pkg/apiutil"
	"github.com/osrg/gobgp/v4/pkg/packet/bgp"
	"github.com/osrg/gobgp/v4/pkg/server"

	"github.com/peerlab/peerlab/internal/testgate"
)

// requireRoot skips a test that needs root, unless CI=true, where it fails.
func requireRoot(t *testing.T) {
	t.Helper()
	testgate.RequireRoot(t, "CAP_NET_RAW for AF_PACKET capture")
}

// requireTool returns the path of a binary, skipping when it is missing,
// unless CI=true, where it fails.
func requireTool(t testing.TB, name string) string {
	t.Helper()
	testgate.Require(t, false, name)
	p, _ := exec.LookPath(name)
	return p
}

// loopbackPair derives two 127.x.y.{1,2} addresses and a free port from
// the test name, so parallel tests do not collide.
func loopbackPair(t *testing.T) (a, b string, port int) {
	t.Helper()
	h := 0
	for _, c := range t.Name() + strconv.Itoa(os.Getpid()) {
		h = (h*31 + int(c)) & 0xffff
	}
	a = fmt.Sprintf("127.%d.%d.1", 100+h%100, h>>8)
	b = fmt.Sprintf("127.%d.%d.2", 100+h%100, h>>8)
	l, err := net.Listen("tcp", net.JoinHostPort(a, "0"))
	if err != nil {
		t.Fatal(err)
	}
	port = l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	return a, b, port
}

// startSpeaker runs an in-process GoBGP v4 server on addr:port peering with peer.
func startSpeaker(t *testing.T, asn uint32, addr string, port int, peer string, peerAS uint32, passive bool) *server.BgpServer {
	t.Helper()
	ctx := context.Background()
	s := server.NewBgpServer(server.LoggerOption(slog.New(slog.DiscardHandler), nil))
	go s.Serve()
	if err := s.StartBgp(ctx, &api.StartBgpRequest{Global: &api.Global{
		Asn: asn, RouterId: addr, ListenPort: int32(port), ListenAddresses: []string{addr},
	}}); err != nil {
		t.Fatalf("start GoBGP on %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = s.StopBgp(context.Background(), &api.StopBgpRequest{}) })
	if err := s.AddPeer(ctx, &api.AddPeerRequest{Peer: &api.Peer{
		Conf:      &api.PeerConf{NeighborAddress: peer, PeerAsn: peerAS},
		Transport: &api.Transport{LocalAddress: addr, RemotePort: uint32(port), PassiveMode: passive},
		Timers:    &api.Timers{Config: &api.TimersConfig{ConnectRetry: 1, HoldTime: 9, KeepaliveInterval: 3}},
	}}); err != nil {
		t.Fatalf("add peer %s on %s: %v", peer, addr, err)
	}
	return s
}

// announce adds an IPv4 route on s.
func announce(t *testing.T, s *server.BgpServer, prefix, nextHop string) {
	t.Helper()
	nh, _ := bgp.NewPathAttributeNextHop(netip.MustParseAddr(nextHop))
	nlri, _ := bgp.NewIPAddrPrefix(netip.MustParsePrefix(prefix))
	if _, err := s.AddPath(apiutil.AddPathRequest{Paths: []*apiutil.Path{{
		Family: bgp.RF_IPv4_UC, Nlri: nlri, Attrs: []bgp.PathAttributeInterface{bgp.NewPathAttributeOrigin(0), nh},
	}}}); err != nil {
		t.Fatalf("add path %s: %v", prefix, err)
	}
}

// waitReceived polls s until its peer reports at least one received route.
func waitReceived(t *testing.T, s *server.BgpServer) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		got := false
		_ = s.ListPeer(context.Background(), &api.ListPeerRequest{EnableAdvertised: true}, func(p *api.Peer) {
			for _, af := range p.GetAfiSafis() {
				if af.GetState().GetReceived() > 0 {
					got = true
				}
			}
		})
		if got {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("no route received within 20s")
}

// TestLiveCaptureGoBGP captures two GoBGP speakers on lo, decodes the file
// and checks the per-type message counts against tshark.
func TestLiveCaptureGoBGP(t *testing.T) {
	requireRoot(t)
	a, b, port := loopbackPair(t)
	path := filepath.Join(t.TempDir(), "live.pcapng")
	c, err := Start(context.Background(), Options{Interface: "lo", Ports: []int{port}, Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	sa := startSpeaker(t, 65001, a, port, b, 65002, false)
	sb := startSpeaker(t, 65002, b, port, a, 65001, true)
	announce(t, sa, "198.51.100.0/24", a)
	waitReceived(t, sb)
	time.Sleep(300 * time.Millisecond) // let trailing KEEPALIVEs be captured
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	st := c.Stats()
	if st.Kept == 0 || st.Seen < st.Kept {
		t.Fatalf("stats %+v: want kept > 0 and seen >= kept", st)
	}

	tl := decodeFile(t, path, DecodeOptions{Ports: []int{port}})
	if len(tl.Sessions) != 1 {
		t.Fatalf("got %d sessions, want 1", len(tl.Sessions))
	}
	s := tl.Sessions[0]
	if testing.Verbose() {
		var txt bytes.Buffer
		_ = Render(&txt, tl, "text")
		t.Log("\n" + txt.String())
	}
	opensFrom := map[netip.Addr]int{}
	updates := 0
	for _, e := range s.Events {
		switch e.Kind {
		case KindOpen:
			opensFrom[e.From.Addr()]++
		case KindUpdate:
			if e.Update.Announced > 0 && e.Update.FirstAnnounced[0].String() == "198.51.100.0/24" {
				updates++
			}
		case KindMalformed:
			t.Errorf("malformed event: %s", e.Summary())
		}
	}
	if opensFrom[netip.MustParseAddr(a)] == 0 || opensFrom[netip.MustParseAddr(b)] == 0 {
		t.Errorf("want OPENs both ways, got %v", opensFrom)
	}
	if s.Counts.Keepalive < 2 {
		t.Errorf("got %d KEEPALIVEs, want >= 2", s.Counts.Keepalive)
	}
	if updates == 0 {
		t.Errorf("no UPDATE announcing 198.51.100.0/24")
	}

	want := tsharkCounts(t, path, port)
	got := map[string]int64{"1": s.Counts.Open, "2": s.Counts.Update, "3": s.Counts.Notification, "4": s.Counts.Keepalive, "5": s.Counts.RouteRefresh}
	for typ, n := range got {
		if want[typ] != n {
			t.Errorf("BGP type %s: decoder counted %d, tshark %d", typ, n, want[typ])
		}
	}
}

// decodeFile decodes a capture file.
func decodeFile(t testing.TB, path string, opts DecodeOptions) *Timeline {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tl, err := Decode(f, opts)
	if err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	return tl
}

// tsharkCounts counts BGP messages by type as tshark dissects them.
func tsharkCounts(t *testing.T, path string, port int) map[string]int64 {
	t.Helper()
	tshark := requireTool(t, "tshark")
	cmd := exec.Command(tshark, "-r", path, "-Y", "bgp", "-T", "fields", "-e", "bgp.type", "-d", fmt.Sprintf("tcp.port==%d,bgp", port))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark: %v: %s", err, stderr.String())
	}
	counts := map[string]int64{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		for _, typ := range strings.Split(line, ",") { // one frame may hold several messages
			if typ != "" {
				counts[typ]++
			}
		}
	}
	return counts
}
