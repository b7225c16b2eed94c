package lab

import (
	"net/netip"
	"testing"

	"github.com/peerlab/peerlab/internal/bird"
	"github.com/peerlab/peerlab/lab/k8s"
	"github.com/peerlab/peerlab/lab/topology"
)

// TestDerivedDatastoreKeepsTheMesh: a topology without a `calico:` block
// seeds resources that render exactly the mesh topologies always meant
// (every other calico-node a Mesh_ peer at its address and AS), and a
// node's own asn becomes its Node's asNumber.
func TestDerivedDatastoreKeepsTheMesh(t *testing.T) {
	topo, err := topology.Parse("t.yaml", []byte(`name: t
defaults: {asn: 64512, kind: bird}
nodes:
  master: {address: 10.0.0.1, roles: [apiserver, calico-node]}
  worker1: {address: 10.0.0.2, asn: 65010, roles: [calico-node]}
  worker2: {address: 10.0.0.3, roles: [calico-node]}
peerings:
  - mesh: [master, worker1, worker2]
`))
	if err != nil {
		t.Fatal(err)
	}
	var infos []k8s.NodeInfo
	for _, n := range topo.Nodes {
		infos = append(infos, k8s.NodeInfo{Name: n.Name, Address: netip.PrefixFrom(n.Address, 24), ASN: n.ASN})
	}
	objs, err := calicoResources(topo, infos)
	if err != nil {
		t.Fatal(err)
	}
	ds := datastoreOf(objs)
	want := map[string][]bird.Peer{
		"master": {{Name: "worker1", Address: netip.MustParseAddr("10.0.0.2"), ASN: 65010, Port: 179, Kind: bird.KindMesh},
			{Name: "worker2", Address: netip.MustParseAddr("10.0.0.3"), ASN: 64512, Port: 179, Kind: bird.KindMesh}},
		"worker1": {{Name: "master", Address: netip.MustParseAddr("10.0.0.1"), ASN: 64512, Port: 179, Kind: bird.KindMesh},
			{Name: "worker2", Address: netip.MustParseAddr("10.0.0.3"), ASN: 64512, Port: 179, Kind: bird.KindMesh}},
	}
	for node, peers := range want {
		plan, err := k8s.RenderBGP(ds, node, 179)
		if err != nil {
			t.Fatal(err)
		}
		if len(plan.Peers) != len(peers) {
			t.Fatalf("%s: peers %+v, want %+v", node, plan.Peers, peers)
		}
		for i := range peers {
			if plan.Peers[i] != peers[i] {
				t.Errorf("%s: peer %d = %+v, want %+v", node, i, plan.Peers[i], peers[i])
			}
		}
	}
	if plan, _ := k8s.RenderBGP(ds, "worker1", 179); plan.ASN != 65010 {
		t.Errorf("worker1's AS = %d, want its topology asn 65010", plan.ASN)
	}
}
