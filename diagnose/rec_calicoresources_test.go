package diagnose

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// calicoctlV3 is `calicoctl get bgpconfig,bgppeer,node -o yaml` shaped
// input: projectcalico.org/v3, several documents, a v3 List.
const calicoctlV3 = `apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata:
  name: default
spec:
  asNumber: 65100
  nodeToNodeMeshEnabled: false
---
apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata:
  name: node.worker2
spec:
  listenPort: 1791
---
apiVersion: projectcalico.org/v3
items:
- apiVersion: projectcalico.org/v3
  kind: BGPPeer
  metadata:
    name: rr-peers
  spec:
    nodeSelector: all()
    peerSelector: route-reflector == 'true'
kind: BGPPeerList
---
apiVersion: projectcalico.org/v3
kind: Node
metadata:
  labels:
    route-reflector: "true"
  name: rr1
spec:
  bgp:
    asNumber: 65101
    ipv4Address: 10.0.0.9/24
    routeReflectorClusterID: 244.0.0.1
`

// TestCalicoResourcesYAML reads the resources as the lab's API server
// lists them (saved by diagnose --kubeconfig) and as calicoctl prints
// them, field by field.
func TestCalicoResourcesYAML(t *testing.T) {
	lab := func(name string) []byte {
		data, err := os.ReadFile(filepath.Join("testdata", "artifacts", name))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	tests := []struct {
		name  string
		data  []byte
		check func(t *testing.T, o Observations)
	}{
		{"lab bgppeers", lab("lab-calico-peer-as-wrong-resource/calico-bgppeers.yaml"), func(t *testing.T, o Observations) {
			if len(o.BGPPeers) != 1 {
				t.Fatalf("peers %+v", o.BGPPeers)
			}
			p := o.BGPPeers[0]
			if p.Name != "worker1-tor" || p.Node != "worker1" || p.PeerIP != "10.0.0.254" || p.ASNumber != 65010 || p.ASLine.Text != "asNumber: 65010" {
				t.Errorf("peer %+v", p)
			}
		}},
		{"lab bgpconfiguration", lab("lab-calico-mesh-disabled/calico-bgpconfigurations.yaml"), func(t *testing.T, o Observations) {
			if len(o.BGPConfigurations) != 1 {
				t.Fatalf("configs %+v", o.BGPConfigurations)
			}
			bc := o.BGPConfigurations[0]
			if bc.Name != "default" || bc.MeshEnabled == nil || *bc.MeshEnabled || bc.ASNumber != 64512 || bc.MeshLine.Text != "nodeToNodeMeshEnabled: false" {
				t.Errorf("config %+v", bc)
			}
		}},
		{"lab nodes keep their addresses", lab("lab-calico-rr-cluster/calico-nodes.yaml"), func(t *testing.T, o Observations) {
			if len(o.CalicoNodes) != 3 {
				t.Fatalf("nodes %+v", o.CalicoNodes)
			}
			w1 := o.CalicoNodes[1]
			if w1.Name != "worker1" || w1.ClusterID != "224.0.0.1" || w1.IPv4Address != "10.0.0.2/24" || w1.Labels["kubernetes.io/hostname"] != "worker1" {
				t.Errorf("worker1 %+v", w1)
			}
			if len(o.NodeAddrs) == 0 {
				t.Errorf("the node addresses nodeAddressesYAML reads are lost")
			}
		}},
		{"calicoctl v3", []byte(calicoctlV3), func(t *testing.T, o Observations) {
			if len(o.BGPConfigurations) != 2 || o.BGPConfigurations[1].ListenPort != 1791 || o.BGPConfigurations[0].ASNumber != 65100 {
				t.Errorf("configs %+v", o.BGPConfigurations)
			}
			if len(o.BGPPeers) != 1 || o.BGPPeers[0].PeerSelector != "route-reflector == 'true'" || o.BGPPeers[0].NodeSelector != "all()" {
				t.Errorf("peers %+v", o.BGPPeers)
			}
			if len(o.CalicoNodes) != 1 || o.CalicoNodes[0].ASNumber != 65101 || o.CalicoNodes[0].Labels["route-reflector"] != "true" || o.CalicoNodes[0].ClusterIDLine.Text != "routeReflectorClusterID: 244.0.0.1" {
				t.Errorf("nodes %+v", o.CalicoNodes)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, lines, ok := calicoResourcesYAML{}.Recognize("f", tc.data)
			if !ok || len(lines) == 0 {
				t.Fatalf("not recognised (ok %v, %d lines)", ok, len(lines))
			}
			tc.check(t, o)
		})
	}
	if _, _, ok := (calicoResourcesYAML{}).Recognize("f", []byte("apiVersion: v1\nkind: Node\nmetadata:\n  name: a\n")); ok {
		t.Error("a Kubernetes Node taken for a Calico resource")
	}
}

// TestCalicoResourceRulesQuietOnDefaultMesh runs the resource rules on a
// cluster whose resources are the default mesh: nothing fires.
func TestCalicoResourceRulesQuietOnDefaultMesh(t *testing.T) {
	on := true
	c := &Cluster{Nodes: []*Node{{Name: "", Obs: Observations{
		BGPConfigurations: []CalicoBGPConfiguration{{Name: "default", MeshEnabled: &on, ASNumber: 64512}},
		CalicoNodes:       []CalicoNodeRes{{Name: "a", IPv4Address: "10.0.0.1/24"}, {Name: "b", IPv4Address: "10.0.0.2/24"}},
	}}}}
	for _, r := range []func(*Cluster) []Finding{ruleBGPPeerAS, ruleMeshDisabled, rulePeerSelectorNone, ruleListenPort, ruleRRCluster} {
		if fs := r(c); len(fs) != 0 {
			t.Errorf("fires on the default mesh: %+v", fs)
		}
	}
	off := false
	c.Nodes[0].Obs.BGPConfigurations[0].MeshEnabled = &off
	if fs := ruleMeshDisabled(c); len(fs) != 2 || fs[0].Confidence != Medium {
		t.Errorf("mesh off without peers, no BIRD evidence: %+v; want two medium findings", fs)
	}
}

// TestBGPPeerASNeedsBIRDRefusal checks that, for a peer outside the
// cluster, only BIRD refusing the peer's OPEN implicates the BGPPeer: the
// resources are the lab's (asNumber 65010 on worker1-tor); the BIRD log
// lines are written for the test.
func TestBGPPeerASNeedsBIRDRefusal(t *testing.T) {
	var res Observations
	for _, f := range []string{"calico-bgppeers.yaml", "calico-nodes.yaml"} {
		data, err := os.ReadFile(filepath.Join("testdata", "artifacts", "lab-calico-peer-as-wrong-resource", f))
		if err != nil {
			t.Fatal(err)
		}
		o, _, ok := calicoResourcesYAML{}.Recognize(f, data)
		if !ok {
			t.Fatalf("%s not recognised", f)
		}
		res.merge(o)
	}
	tests := []struct {
		name    string
		message string // BIRD's log message about Node_10_0_0_254, "" for none
		want    Confidence
		summary string
	}{
		{"BIRD refused the ToR's OPEN", "Error: Bad peer AS: 65000", High, "the peer's OPEN says AS 65000"},
		{"BIRD refused, AS not quoted", "Error: Bad peer AS", High, "BIRD refuses the peer's OPEN"},
		{"the ToR refused worker1's OPEN", "Received: Bad peer AS", "", ""},
		{"no BIRD evidence", "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w1 := &Node{Name: "worker1"}
			if tc.message != "" {
				w1.Obs.BirdLog = []BirdLogLine{{Protocol: "Node_10_0_0_254", Message: tc.message,
					Line: Line{"worker1/calico-node.log", "bird: Node_10_0_0_254: " + tc.message}}}
			}
			c := &Cluster{Nodes: []*Node{{Obs: res}, w1}}
			fs := ruleBGPPeerAS(c)
			if tc.want == "" {
				if len(fs) != 0 {
					t.Errorf("fired: %+v", fs)
				}
				return
			}
			if len(fs) != 1 || fs[0].Confidence != tc.want || fs[0].Node != "worker1" || !strings.Contains(fs[0].Summary, tc.summary) {
				t.Fatalf("findings %+v; want one %s on worker1 saying %q", fs, tc.want, tc.summary)
			}
		})
	}
}
