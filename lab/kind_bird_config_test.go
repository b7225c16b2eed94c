package lab

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap/zaptest"

	"github.com/peerlab/peerlab/internal/bird"
	"github.com/peerlab/peerlab/internal/testgate"
	"github.com/peerlab/peerlab/lab/topology"
)

// fakeNamespace is a Namespace that must never be asked to start anything.
type fakeNamespace struct{ t *testing.T }

func (f fakeNamespace) Path() string { return "/run/netns/none" }
func (f fakeNamespace) StartProcess(cmd *exec.Cmd) error {
	f.t.Errorf("StartProcess(%s) called", cmd.Path)
	return errors.New("fake namespace")
}
func (f fakeNamespace) Do(func() error) error { return errors.New("fake namespace") }

// birdSpec builds node's NodeSpec from a topology text, without namespaces.
func birdSpec(t *testing.T, yaml, node string) NodeSpec {
	t.Helper()
	topo, err := topology.Parse("test.yaml", []byte(yaml))
	if err != nil {
		t.Fatalf("topology: %v", err)
	}
	return NodeSpec{
		Node:      topo.Node(node),
		Topology:  topo,
		Sessions:  sessionsOf(topo, node),
		Bind:      func(n string) netip.Addr { return topo.Node(n).Address },
		Port:      179,
		Logger:    zaptest.NewLogger(t),
		Namespace: fakeNamespace{t},
		Dir:       t.TempDir(),
	}
}

const birdConfigTopology = `
name: cfg
defaults: {asn: 64512, kind: bird}
nodes:
  rr:  {address: 10.0.0.100, role: route-reflector, cluster-id: 1.1.1.1}
  n1:  {address: 10.0.0.1, prefixes: [10.244.1.0/24]}
  n2:  {address: 10.0.0.2}
  n10: {address: 10.0.0.10, kind: bird2}
  tor: {address: 10.0.0.254, asn: 65001, kind: gobgp}
peerings:
  - mesh: [n1, n2, n10]
  - route-reflector: rr
    clients: [n1]
  - between: [n1, tor]
    peer-asn: {tor: 65099}
    password: s3cret
    passive: n1
    ttl-security: 254
`

func TestBIRDConfigFromTopology(t *testing.T) {
	peer := func(name, addr string, asn uint32, kind bird.PeerKind) bird.Peer {
		return bird.Peer{Name: name, Address: netip.MustParseAddr(addr), Port: 179, ASN: asn, Kind: kind}
	}
	rrClient := peer("n1", "10.0.0.1", 64512, bird.KindNode)
	rrClient.RouteReflectorClient, rrClient.ClusterID = true, "1.1.1.1"
	tor := peer("tor", "10.0.0.254", 65099, bird.KindNode)
	tor.Password, tor.Passive, tor.TTLSecurity = "s3cret", true, true

	for _, tc := range []struct {
		node  string
		peers []bird.Peer
		names map[string]string
	}{
		{
			node: "n1",
			// Session order of the topology: mesh, reflector, between.
			peers: []bird.Peer{
				peer("n2", "10.0.0.2", 64512, bird.KindMesh),
				peer("n10", "10.0.0.10", 64512, bird.KindMesh),
				peer("rr", "10.0.0.100", 64512, bird.KindNode),
				tor,
			},
			names: map[string]string{"Mesh_10_0_0_2": "n2", "Mesh_10_0_0_10": "n10", "Node_10_0_0_100": "rr", "Node_10_0_0_254": "tor"},
		},
		{
			node:  "rr",
			peers: []bird.Peer{rrClient},
			names: map[string]string{"Node_10_0_0_1": "n1"},
		},
	} {
		t.Run(tc.node, func(t *testing.T) {
			spec := birdSpec(t, birdConfigTopology, tc.node)
			cfg, names, err := birdConfig(spec, "/x/bird.log")
			if err != nil {
				t.Fatal(err)
			}
			if cfg.ASN != 64512 || cfg.NodeIP != spec.Node.Address || cfg.RouterID != spec.Node.Address || cfg.ListenPort != 179 || cfg.LogFile != "/x/bird.log" {
				t.Errorf("config head = asn %d ip %v id %v port %d log %q", cfg.ASN, cfg.NodeIP, cfg.RouterID, cfg.ListenPort, cfg.LogFile)
			}
			if len(cfg.Peers) != len(tc.peers) {
				t.Fatalf("peers = %+v, want %+v", cfg.Peers, tc.peers)
			}
			for i := range tc.peers {
				if cfg.Peers[i] != tc.peers[i] {
					t.Errorf("peers[%d] = %+v, want %+v", i, cfg.Peers[i], tc.peers[i])
				}
			}
			if len(names) != len(tc.names) {
				t.Errorf("names = %v, want %v", names, tc.names)
			}
			for k, v := range tc.names {
				if names[k] != v {
					t.Errorf("names[%s] = %q, want %q", k, names[k], v)
				}
			}
		})
	}
	t.Run("prefixes", func(t *testing.T) {
		cfg, _, err := birdConfig(birdSpec(t, birdConfigTopology, "n1"), "")
		if err != nil {
			t.Fatal(err)
		}
		if len(cfg.Prefixes) != 1 || cfg.Prefixes[0] != netip.MustParsePrefix("10.244.1.0/24") {
			t.Errorf("prefixes = %v", cfg.Prefixes)
		}
	})
}

func TestBIRDConfigRefusals(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, node, want string
	}{
		{"ipv6 prefix", `
name: v6
defaults: {asn: 64512, kind: bird}
nodes:
  a: {address: 10.0.0.1, prefixes: [fd00:1::/64]}
`, "a", "IPv4 prefixes only"},
		{"communities", `
name: comm
defaults: {asn: 64512, kind: bird2}
nodes:
  a: {address: 10.0.0.1, prefixes: [{prefix: 10.244.1.0/24, communities: ["64512:1"]}]}
`, "a", "communities"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := birdSpec(t, tc.yaml, tc.node)
			_, err := newBIRDNode(bird.Bird1)(spec)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestBIRDKindNeedsNamespaceMode(t *testing.T) {
	spec := birdSpec(t, birdConfigTopology, "n1")
	spec.Namespace = nil
	_, err := newBIRDNode(bird.Bird1)(spec)
	if err == nil || !strings.Contains(err.Error(), "kind bird needs namespace mode") {
		t.Errorf("err = %v, want \"kind bird needs namespace mode\"", err)
	}
}

func TestBIRDPaths(t *testing.T) {
	short := newBIRDPaths("/run/peerlab/labs/x/nodes/n1")
	if short.Config != "/run/peerlab/labs/x/nodes/n1/etc/bird/bird.cfg" || short.Socket != "/run/peerlab/labs/x/nodes/n1/run/bird.ctl" ||
		short.Log != "/run/peerlab/labs/x/nodes/n1/var/log/bird.log" || short.SocketNote != "" {
		t.Errorf("short layout = %+v", short)
	}
	longDir := "/tmp/" + strings.Repeat("d", 100)
	long := newBIRDPaths(longDir)
	if !strings.HasPrefix(long.Socket, shortSocketDir+"/") || !strings.HasSuffix(long.Socket, ".ctl") || len(long.Socket) > maxSocketPath {
		t.Errorf("long socket = %q, want a short path under %s", long.Socket, shortSocketDir)
	}
	if long.SocketNote != longDir+"/run/bird.ctl.path" {
		t.Errorf("socket note = %q", long.SocketNote)
	}
	if other := newBIRDPaths(longDir + "x"); other.Socket == long.Socket {
		t.Errorf("two folders share the short socket %s", long.Socket)
	}
	// A path of exactly 107 bytes still fits.
	dir := "/" + strings.Repeat("e", maxSocketPath-len("/run/bird.ctl")-1)
	if p := newBIRDPaths(dir); p.SocketNote != "" || len(p.Socket) != maxSocketPath {
		t.Errorf("107-byte socket path %q (%d) moved: %+v", p.Socket, len(p.Socket), p)
	}
}

// TestBIRDStartChecksConfig breaks the rendered config and checks Start
// returns bird -p's own error text without starting anything.
func TestBIRDStartChecksConfig(t *testing.T) {
	for _, v := range []bird.Version{bird.Bird1, bird.Bird2} {
		t.Run(v.String(), func(t *testing.T) {
			if _, err := exec.LookPath(bird.DefaultBinaries(v).Bird); err != nil {
				testgate.SkipOrFail(t, "%s not installed (run .ci/install-daemons.sh): %v", v, err)
			}
			spec := birdSpec(t, birdConfigTopology, "n1")
			n, err := newBIRDNode(v)(spec)
			if err != nil {
				t.Fatal(err)
			}
			b := n.(*birdNode)
			good := b.config
			b.config = append(append([]byte(nil), good...), []byte("\nprotocol bgp Broken { nonsense here; }\n")...)
			err = n.Start(context.Background())
			if err == nil || !strings.Contains(err.Error(), "syntax error") || !strings.Contains(err.Error(), b.paths.Config) {
				t.Errorf("Start = %v, want bird's syntax error naming %s", err, b.paths.Config)
			}
			if _, serr := os.Stat(filepath.Join(spec.Dir, "etc", "bird", "bird.cfg")); serr != nil {
				t.Errorf("config not written to the node's etc/bird: %v", serr)
			}
			if err := n.Stop(); err != nil {
				t.Errorf("Stop of a node that never started: %v", err)
			}
			if err := n.Stop(); err != nil {
				t.Errorf("second Stop: %v", err)
			}
			b.config = good // a valid config: only the stop may refuse the start
			if err := n.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "stopped") {
				t.Errorf("Start after Stop = %v, want a refusal", err)
			}
		})
	}
}

// TestBIRDRenderedConfigsParse renders every node of the topology (mesh
// peers, a route reflector and its client, a passive MD5 eBGP peer with
// GTSM) for both BIRD versions and has bird -p check each file.
func TestBIRDRenderedConfigsParse(t *testing.T) {
	for _, v := range []bird.Version{bird.Bird1, bird.Bird2} {
		if _, err := exec.LookPath(bird.DefaultBinaries(v).Bird); err != nil {
			testgate.SkipOrFail(t, "%s not installed (run .ci/install-daemons.sh): %v", v, err)
		}
		for _, node := range []string{"rr", "n1", "n2", "n10"} {
			t.Run(v.String()+"/"+node, func(t *testing.T) {
				n, err := newBIRDNode(v)(birdSpec(t, birdConfigTopology, node))
				if err != nil {
					t.Fatal(err)
				}
				b := n.(*birdNode)
				if err := b.paths.prepare(); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(b.paths.Config, b.config, 0o644); err != nil {
					t.Fatal(err)
				}
				if err := b.checkConfig(context.Background()); err != nil {
					t.Errorf("%v\n%s", err, b.config)
				}
			})
		}
	}
}
