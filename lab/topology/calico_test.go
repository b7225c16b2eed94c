package topology

import (
	"path/filepath"
	"testing"
)

// TestCalicoBlock checks that the `calico:` block reaches the Topology as
// written.
func TestCalicoBlock(t *testing.T) {
	topo, err := Load(filepath.Join("testdata", "good", "calico-block.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	c := topo.Calico
	if c == nil || c.BGPConfiguration == nil {
		t.Fatalf("calico block not loaded: %+v", c)
	}
	if m := c.BGPConfiguration.NodeToNodeMeshEnabled; m == nil || *m {
		t.Errorf("node-to-node-mesh-enabled = %v, want false", m)
	}
	if a := c.Nodes["worker1"].ASNumber; a == nil || *a != 65010 {
		t.Errorf("worker1 as-number = %v, want 65010", a)
	}
	if c.Nodes["master"].RouteReflectorClusterID != "224.0.0.1" || c.Nodes["master"].Labels["route-reflector"] != "true" {
		t.Errorf("master = %+v", c.Nodes["master"])
	}
	if len(c.BGPPeers) != 2 {
		t.Fatalf("bgppeers = %+v", c.BGPPeers)
	}
	p := c.BGPPeers[1]
	if p.Name != "worker1-tor" || p.Node != "worker1" || p.PeerIP != "10.0.0.254" || p.ASNumber != 65000 || p.SecretName != "bgp-secrets" || p.SecretKey != "tor" {
		t.Errorf("bgppeers[1] = %+v", p)
	}
	if c.Secrets["bgp-secrets"]["tor"] != "s3cret" {
		t.Errorf("secrets = %v", c.Secrets)
	}
}
