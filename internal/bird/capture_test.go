package bird

import (
	"flag"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var capture = flag.Bool("capture", false, "start real bird 1.6 and bird2 and rewrite testdata/real fixtures")

// realScenario is a pair of real daemons in a known state, captured into
// testdata/real/{bird1,bird2}/<name>.*.txt.
type realScenario struct {
	name string
	// peer1 is bird1's view of bird2 and peer2 bird2's view of bird1.
	peer1, peer2 Peer
	ready        func(ProtocolDetail) bool
	what         string
}

// Fixed addresses and ports keep the fixtures stable between captures.
var (
	capAddr1, capAddr2, capAddr3 = netip.MustParseAddr("127.100.1.1"), netip.MustParseAddr("127.100.1.2"), netip.MustParseAddr("127.100.1.3")
	capPort1, capPort2, capPort3 = uint16(17901), uint16(17902), uint16(17903)
)

var realScenarios = []realScenario{
	{
		name:  "established",
		peer1: Peer{Name: "bird2", Address: capAddr2, Port: capPort2, ASN: 64512, Kind: KindMesh},
		peer2: Peer{Name: "bird1", Address: capAddr1, Port: capPort1, ASN: 64512, Kind: KindMesh},
		ready: func(d ProtocolDetail) bool { return d.BGPState == "Established" && d.Routes.Imported > 0 },
		what:  "Established with a route imported",
	},
	{
		name:  "bad-peer-as",
		peer1: Peer{Name: "bird2", Address: capAddr2, Port: capPort2, ASN: 64999, Kind: KindNode},
		peer2: Peer{Name: "bird1", Address: capAddr1, Port: capPort1, ASN: 64512, Kind: KindNode},
		ready: func(d ProtocolDetail) bool { return strings.Contains(d.LastError, "Bad peer AS") },
		what:  "last error Bad peer AS",
	},
	{
		name:  "refused",
		peer1: Peer{Name: "nobody", Address: capAddr3, Port: capPort3, ASN: 64512, Kind: KindGlobal},
		peer2: Peer{Name: "nobody", Address: capAddr3, Port: capPort3, ASN: 64512, Kind: KindGlobal},
		ready: func(d ProtocolDetail) bool { return strings.Contains(d.LastError, "Connection refused") },
		what:  "last error Connection refused",
	},
}

// TestCaptureRealOutput is the fixture generator: with -capture it runs each
// scenario with a real bird 1.6 and bird2 and writes what they print.
func TestCaptureRealOutput(t *testing.T) {
	if !*capture {
		t.Skip("fixture generator, not a test: run with -capture to rewrite testdata/real (CI never passes -capture)")
	}
	for _, sc := range realScenarios {
		t.Run(sc.name, func(t *testing.T) {
			n1 := startNode(t, Bird1, Config{ASN: 64512, NodeIP: capAddr1, ListenPort: capPort1,
				Prefixes: []netip.Prefix{netip.MustParsePrefix("10.244.1.0/26")}, Peers: []Peer{sc.peer1}})
			n2 := startNode(t, Bird2, Config{ASN: 64512, NodeIP: capAddr2, ListenPort: capPort2, StrictBind: true,
				Prefixes: []netip.Prefix{netip.MustParsePrefix("10.244.2.0/26")}, Peers: []Peer{sc.peer2}})
			for _, n := range []struct {
				node *labNode
				peer Peer
			}{{n1, sc.peer1}, {n2, sc.peer2}} {
				waitDetail(t, n.node, ProtocolName(n.peer), 40*time.Second, sc.what, sc.ready)
			}
			for _, n := range []struct {
				node *labNode
				peer Peer
			}{{n1, sc.peer1}, {n2, sc.peer2}} {
				captureNode(t, n.node, sc.name, ProtocolName(n.peer))
			}
		})
	}
}

// captureNode writes one daemon's replies in raw socket form and as birdc
// prints them, plain and with -v.
func captureNode(t *testing.T, n *labNode, scenario, proto string) {
	t.Helper()
	dir := filepath.Join("testdata", "real", n.version.String())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cmds := map[string]string{
		"show-protocols":     "show protocols",
		"show-protocols-all": "show protocols all " + proto,
		"show-route-count":   "show route count",
	}
	for file, cmd := range cmds {
		write := func(suffix, text string) {
			p := filepath.Join(dir, scenario+"."+file+"."+suffix+".txt")
			if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		write("raw", rawCmd(t, n.daemon.Socket(), cmd))
		for suffix, args := range map[string][]string{"birdc": {"-s", n.daemon.Socket()}, "birdc-v": {"-v", "-s", n.daemon.Socket()}} {
			out, err := exec.Command(n.birdc, append(args, strings.Fields(cmd)...)...).CombinedOutput()
			if err != nil {
				t.Fatalf("birdc %s: %v\n%s", cmd, err, out)
			}
			write(suffix, string(out))
		}
	}
}
