package k8s

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/peerlab/peerlab/internal/bird"
)

// TestRenderBGPGolden renders BIRD's configuration for one node from each
// resource combination under testdata/render (<case>.json: the node and
// the datastore) and compares it, for BIRD 1.6 and BIRD 2, with
// <case>.bird1.cfg and <case>.bird2.cfg. confd's warnings head the file.
func TestRenderBGPGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "render", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no render cases: %v", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var in struct {
				Self      string    `json:"self"`
				Datastore Datastore `json:"datastore"`
			}
			if err := json.Unmarshal(data, &in); err != nil {
				t.Fatal(err)
			}
			plan, err := RenderBGP(in.Datastore, in.Self, 179)
			if err != nil {
				t.Fatal(err)
			}
			var self netip.Addr
			for _, n := range in.Datastore.Nodes {
				if n.Metadata.Name == in.Self {
					self = netip.MustParsePrefix(n.Spec.BGP.IPv4Address).Addr()
				}
			}
			cfg := bird.Config{ASN: plan.ASN, NodeIP: self, ListenPort: plan.ListenPort, Peers: plan.Peers,
				Prefixes: []netip.Prefix{netip.MustParsePrefix("192.168.1.0/26")}}
			for _, v := range []bird.Version{bird.Bird1, bird.Bird2} {
				var buf bytes.Buffer
				for _, w := range plan.Warnings {
					fmt.Fprintf(&buf, "# confd warning: %s\n", w)
				}
				if err := bird.RenderConfig(&buf, cfg, v); err != nil {
					t.Fatal(err)
				}
				golden := filepath.Join("testdata", "render", fmt.Sprintf("%s.%s.cfg", name, v))
				if *update {
					if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run with -update to create it)", err)
				}
				if !bytes.Equal(buf.Bytes(), want) {
					t.Errorf("%s differs from the rendering:\n%s", golden, buf.String())
				}
			}
		})
	}
}

// TestRenderBGPNeedsOwnNode: a node without a Calico Node address renders
// nothing, as calico-node cannot start its BGP daemon without one.
func TestRenderBGPNeedsOwnNode(t *testing.T) {
	if _, err := RenderBGP(Datastore{}, "worker1", 179); err == nil || !strings.Contains(err.Error(), "worker1") {
		t.Fatalf("RenderBGP without the node's Calico Node = %v, want an error naming worker1", err)
	}
}

// TestCalicoSelector checks the selector forms BGPPeers use.
func TestCalicoSelector(t *testing.T) {
	labels := map[string]string{"route-reflector": "true", "rack": "r1"}
	tests := []struct {
		sel  string
		want bool
	}{
		{"all()", true},
		{"has(route-reflector)", true},
		{"!has(route-reflector)", false},
		{"route-reflector == 'true'", true},
		{`route-reflector == "false"`, false},
		{"rack != 'r2'", true},
		{"rack in {'r2', 'r1'}", true},
		{"rack not in {'r1'}", false},
		{"has(rack) && route-reflector == 'true'", true},
		{"rack == 'r9' || (has(route-reflector) && !has(spine))", true},
		{"missing == 'x'", false},
	}
	for _, tt := range tests {
		sel, err := ParseCalicoSelector(tt.sel)
		if err != nil {
			t.Errorf("%q: %v", tt.sel, err)
			continue
		}
		if got := sel(labels); got != tt.want {
			t.Errorf("%q on %v = %v, want %v", tt.sel, labels, got, tt.want)
		}
	}
	for _, bad := range []string{"", "route-reflector == true", "has(", "a == 'b' &&", "a & b", "in {'x'}"} {
		if _, err := ParseCalicoSelector(bad); err == nil {
			t.Errorf("%q parsed, want an error", bad)
		}
	}
}
