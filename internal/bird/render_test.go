package bird

import (
	"bytes"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var (
	ip  = netip.MustParseAddr
	pfx = netip.MustParsePrefix
)

// renderCases are the configurations with golden files in testdata/render.
var renderCases = []struct {
	name string
	cfg  Config
}{
	{"minimal", Config{ASN: 64512, NodeIP: ip("10.0.0.1")}},
	{"mesh-lower-ip", Config{
		ASN: 64512, NodeIP: ip("10.0.0.1"),
		Prefixes: []netip.Prefix{pfx("10.244.1.0/26")},
		Peers:    []Peer{{Name: "worker2", Address: ip("10.0.0.2"), ASN: 64512, Kind: KindMesh}},
	}},
	{"mesh-higher-ip", Config{
		ASN: 64512, NodeIP: ip("10.0.0.2"),
		Prefixes: []netip.Prefix{pfx("10.244.2.0/26")},
		Peers:    []Peer{{Name: "worker1", Address: ip("10.0.0.1"), ASN: 64512, Kind: KindMesh}},
	}},
	{"mesh-string-order", Config{
		ASN: 64512, NodeIP: ip("10.0.0.10"),
		Peers: []Peer{
			{Name: "worker9", Address: ip("10.0.0.9"), ASN: 64512, Kind: KindMesh},
			{Name: "worker11", Address: ip("10.0.0.11"), ASN: 64512, Kind: KindMesh},
		},
	}},
	{"global-tor", Config{
		ASN: 64512, NodeIP: ip("192.168.50.11"),
		Prefixes: []netip.Prefix{pfx("10.244.0.0/26"), pfx("10.244.0.64/26")},
		Peers: []Peer{
			{Name: "tor1", Address: ip("192.168.50.1"), Port: 1179, ASN: 65001, Kind: KindGlobal, Password: "s3cret"},
			{Name: "tor2", Address: ip("192.168.50.2"), ASN: 65001, Kind: KindGlobal, Passive: true},
		},
	}},
	{"route-reflector", Config{
		ASN: 64512, NodeIP: ip("10.0.0.100"), RouterID: ip("1.1.1.1"),
		Peers: []Peer{
			{Name: "worker1", Address: ip("10.0.0.1"), ASN: 64512, Kind: KindNode, RouteReflectorClient: true, ClusterID: "224.0.0.1"},
			{Name: "worker2", Address: ip("10.0.0.2"), ASN: 64512, Kind: KindNode, RouteReflectorClient: true, ClusterID: "100"},
		},
	}},
	{"lab-loopback", Config{
		ASN: 64512, NodeIP: ip("127.100.7.1"), ListenPort: 17901, DeviceScanTime: 5,
		LogFile: "/tmp/peerlab-bird-golden.log", KernelExport: true, StrictBind: true,
		Prefixes: []netip.Prefix{pfx("10.244.7.0/26")},
		Peers: []Peer{
			{Name: "node2", Address: ip("127.100.7.2"), Port: 17902, ASN: 64512, Kind: KindMesh, TTLSecurity: true},
		},
	}},
	{"pools-and-timers", Config{
		ASN: 64512, NodeIP: ip("10.0.0.100"), HoldTime: 9, KeepaliveTime: 3,
		Prefixes: []netip.Prefix{pfx("10.244.100.0/26")},
		Pools:    []netip.Prefix{pfx("10.244.0.0/16"), pfx("192.168.0.0/24")},
		Peers: []Peer{
			{Name: "worker1", Address: ip("10.0.0.1"), ASN: 64512, Kind: KindNode, RouteReflectorClient: true, ClusterID: "10.0.0.100"},
		},
	}},
}

func TestRenderConfigGolden(t *testing.T) {
	for _, tc := range renderCases {
		for _, v := range []Version{Bird1, Bird2} {
			t.Run(tc.name+"/"+v.String(), func(t *testing.T) {
				var buf bytes.Buffer
				if err := RenderConfig(&buf, tc.cfg, v); err != nil {
					t.Fatalf("RenderConfig: %v", err)
				}
				path := filepath.Join("testdata", "render", tc.name+"."+v.String()+".cfg")
				if *update {
					if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("read golden (run with -update): %v", err)
				}
				if !bytes.Equal(buf.Bytes(), want) {
					t.Errorf("rendered config differs from %s (run with -update to accept):\n%s", path, buf.String())
				}
			})
		}
	}
}

// TestRenderConfigCalicoRules asserts the Calico conventions the golden
// files encode, so a careless -update cannot silently drop them.
func TestRenderConfigCalicoRules(t *testing.T) {
	tests := []struct {
		name     string
		cfg      Config
		v        Version
		contains []string
		absent   []string
	}{
		{"lower mesh node is passive", renderCases[1].cfg, Bird1,
			[]string{"protocol bgp Mesh_10_0_0_2 from bgp_template {", "neighbor 10.0.0.2 as 64512;", "source address 10.0.0.1;", "passive on;", "ttl security off;", "listen bgp address 10.0.0.1 port 179;", "export none;"},
			[]string{"rr client"}},
		{"higher mesh node connects", renderCases[2].cfg, Bird1,
			[]string{"protocol bgp Mesh_10_0_0_1 from bgp_template {"}, []string{"passive on;"}},
		{"bird2 uses local and channels", renderCases[1].cfg, Bird2,
			[]string{"local 10.0.0.1 as 64512;", "ipv4 {", "export filter calico_export_to_bgp_peers;"}, []string{"source address", "listen bgp"}},
		{"global peer port, password", renderCases[4].cfg, Bird1,
			[]string{"protocol bgp Global_192_168_50_1_port_1179 from bgp_template {", "neighbor 192.168.50.1 port 1179 as 65001;", `password "s3cret";`, "protocol bgp Global_192_168_50_2 from bgp_template {"}, []string{"ttl security"}},
		{"rr clients", renderCases[5].cfg, Bird2,
			[]string{"protocol bgp Node_10_0_0_1 from bgp_template {", "rr client;", "rr cluster id 224.0.0.1;", "router id 1.1.1.1;"}, nil},
		{"lab options", renderCases[6].cfg, Bird2,
			[]string{"local 127.100.7.1 port 17901 as 64512;", "neighbor 127.100.7.2 port 17902 as 64512;", "strict bind on;", "ttl security on;", "export filter calico_kernel_programming;", "scan time 5;"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := RenderConfig(&buf, tc.cfg, tc.v); err != nil {
				t.Fatal(err)
			}
			for _, s := range tc.contains {
				if !strings.Contains(buf.String(), s) {
					t.Errorf("config lacks %q:\n%s", s, buf.String())
				}
			}
			for _, s := range tc.absent {
				if strings.Contains(buf.String(), s) {
					t.Errorf("config has %q:\n%s", s, buf.String())
				}
			}
		})
	}
}

func TestRenderConfigInvalid(t *testing.T) {
	good := renderCases[1].cfg
	tests := []struct {
		name string
		mod  func(c *Config)
		want string
	}{
		{"no asn", func(c *Config) { c.ASN = 0 }, "asn: must be set"},
		{"ipv6 node", func(c *Config) { c.NodeIP = ip("fd00::1") }, "nodeIP"},
		{"peer is self", func(c *Config) { c.Peers = []Peer{{Address: c.NodeIP, ASN: 1, Kind: KindMesh}} }, "own address"},
		{"bad kind", func(c *Config) { c.Peers = []Peer{{Address: ip("10.0.0.9"), ASN: 1, Kind: "Mesh2"}} }, "peers[0].kind"},
		{"quote in password", func(c *Config) {
			c.Peers = []Peer{{Address: ip("10.0.0.9"), ASN: 1, Kind: KindNode, Password: `a"b`}}
		}, "peers[0].password"},
		{"rr without cluster id", func(c *Config) {
			c.Peers = []Peer{{Address: ip("10.0.0.9"), ASN: 1, Kind: KindNode, RouteReflectorClient: true}}
		}, "peers[0].clusterID"},
		{"duplicate protocol", func(c *Config) {
			c.Peers = []Peer{{Address: ip("10.0.0.9"), ASN: 1, Kind: KindNode}, {Address: ip("10.0.0.9"), ASN: 2, Kind: KindNode}}
		}, "duplicates peers[0]"},
		{"ipv6 prefix", func(c *Config) { c.Prefixes = []netip.Prefix{pfx("fd00::/64")} }, "prefixes[0]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := good
			tc.mod(&c)
			var buf bytes.Buffer
			err := RenderConfig(&buf, c, Bird1)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
			if buf.Len() != 0 {
				t.Errorf("invalid config still wrote %d bytes", buf.Len())
			}
		})
	}
	if err := RenderConfig(&bytes.Buffer{}, good, Version(3)); err == nil {
		t.Error("version 3 accepted")
	}
}

// TestGoldenConfigsAcceptedByBird feeds every golden file to the real
// daemon's parser (bird -p), so the templates stay valid BIRD syntax.
func TestGoldenConfigsAcceptedByBird(t *testing.T) {
	for _, v := range []Version{Bird1, Bird2} {
		t.Run(v.String(), func(t *testing.T) {
			birdBin, _ := requireBinaries(t, v)
			for _, f := range goldenFiles(t, "render/*."+v.String()+".cfg") {
				// bird -p opens log files: point them into a temp dir.
				src, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				logLine := regexp.MustCompile(`(?m)^log "[^"]*"`)
				src = logLine.ReplaceAll(src, []byte(`log "`+filepath.Join(t.TempDir(), "bird.log")+`"`))
				cfg := filepath.Join(t.TempDir(), filepath.Base(f))
				if err := os.WriteFile(cfg, src, 0o644); err != nil {
					t.Fatal(err)
				}
				out, err := exec.Command(birdBin, "-p", "-c", cfg).CombinedOutput()
				if err != nil {
					t.Errorf("%s -p -c %s: %v\n%s", birdBin, f, err, out)
				}
			}
		})
	}
}
