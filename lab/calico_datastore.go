package lab

import (
	"fmt"
	"maps"
	"slices"

	"github.com/peerlab/peerlab/lab/k8s"
	"github.com/peerlab/peerlab/lab/topology"
)

// calicoResources are the Calico datastore resources a lab starts with
// (docs/datastore.md): the topology's `calico:` block, over what the nodes
// imply. Every calico-node gets a Calico Node (its address with the lab's
// prefix length, its AS when it differs from the cluster's, its labels);
// without a `calico:` block there is a "default" BGPConfiguration with
// the node-to-node mesh on and AS 64512, which is what topologies meant
// before Calico's resources were served.
func calicoResources(topo *topology.Topology, infos []k8s.NodeInfo) ([]any, error) {
	cal := topo.Calico
	var out []any
	clusterASN := uint32(k8s.DefaultASN)
	if cal == nil {
		on, asn, sev := true, clusterASN, "Info"
		out = append(out, k8s.BGPConfiguration{APIVersion: k8s.CalicoAPIVersion, Kind: k8s.KindBGPConfiguration,
			Metadata: k8s.Meta{Name: "default"},
			Spec:     k8s.BGPConfigurationSpec{NodeToNodeMeshEnabled: &on, ASNumber: &asn, LogSeverityScreen: sev}})
		cal = &topology.Calico{}
	} else if c := cal.BGPConfiguration; c != nil {
		if c.ASNumber != nil {
			clusterASN = *c.ASNumber
		}
		out = append(out, k8s.BGPConfiguration{APIVersion: k8s.CalicoAPIVersion, Kind: k8s.KindBGPConfiguration,
			Metadata: k8s.Meta{Name: "default"},
			Spec: k8s.BGPConfigurationSpec{NodeToNodeMeshEnabled: c.NodeToNodeMeshEnabled, ASNumber: c.ASNumber,
				ListenPort: c.ListenPort, LogSeverityScreen: c.LogSeverityScreen}})
	}
	for _, info := range infos {
		extra := cal.Nodes[info.Name]
		if extra.ListenPort != nil {
			out = append(out, k8s.BGPConfiguration{APIVersion: k8s.CalicoAPIVersion, Kind: k8s.KindBGPConfiguration,
				Metadata: k8s.Meta{Name: "node." + info.Name}, Spec: k8s.BGPConfigurationSpec{ListenPort: extra.ListenPort}})
		}
		labels := map[string]string{"kubernetes.io/hostname": info.Name, "kubernetes.io/os": "linux"}
		maps.Copy(labels, extra.Labels)
		bgp := &k8s.NodeBGPSpec{IPv4Address: info.Address.String(), RouteReflectorClusterID: extra.RouteReflectorClusterID}
		switch {
		case extra.ASNumber != nil:
			bgp.ASNumber = extra.ASNumber
		case info.ASN != 0 && info.ASN != clusterASN:
			asn := info.ASN
			bgp.ASNumber = &asn
		}
		out = append(out, k8s.CalicoNode{APIVersion: k8s.CalicoAPIVersion, Kind: k8s.KindCalicoNode,
			Metadata: k8s.Meta{Name: info.Name, Labels: labels}, Spec: k8s.CalicoNodeSpec{BGP: bgp}})
	}
	for _, p := range cal.BGPPeers {
		spec := k8s.BGPPeerSpec{Node: p.Node, NodeSelector: p.NodeSelector, PeerSelector: p.PeerSelector, PeerIP: p.PeerIP, ASNumber: p.ASNumber}
		if p.SecretName != "" {
			spec.Password = &k8s.BGPPassword{SecretKeyRef: &k8s.SecretKeyRef{Name: p.SecretName, Key: p.SecretKey}}
		}
		out = append(out, k8s.BGPPeer{APIVersion: k8s.CalicoAPIVersion, Kind: k8s.KindBGPPeer, Metadata: k8s.Meta{Name: p.Name}, Spec: spec})
	}
	for _, name := range slices.Sorted(maps.Keys(cal.Secrets)) {
		data := map[string][]byte{}
		for k, v := range cal.Secrets[name] {
			data[k] = []byte(v)
		}
		out = append(out, k8s.Secret{APIVersion: "v1", Kind: k8s.KindSecret, Type: "Opaque",
			Metadata: k8s.Meta{Name: name, Namespace: k8s.CalicoNamespace}, Data: data})
	}
	return out, nil
}

// seedStore writes the lab's initial Calico resources into store.
func seedStore(store *k8s.Store, topo *topology.Topology, infos []k8s.NodeInfo) error {
	objs, err := calicoResources(topo, infos)
	if err != nil {
		return err
	}
	for _, o := range objs {
		if err := store.Seed(o); err != nil {
			return fmt.Errorf("seed the Calico datastore: %w", err)
		}
	}
	return nil
}

// datastoreOf converts seeded resources into the Datastore confd renders
// from (tests and golden files render without an API server).
func datastoreOf(objs []any) k8s.Datastore {
	var ds k8s.Datastore
	for _, o := range objs {
		switch v := o.(type) {
		case k8s.BGPConfiguration:
			ds.BGPConfigurations = append(ds.BGPConfigurations, v)
		case k8s.BGPPeer:
			ds.BGPPeers = append(ds.BGPPeers, v)
		case k8s.CalicoNode:
			ds.Nodes = append(ds.Nodes, v)
		case k8s.Secret:
			ds.Secrets = append(ds.Secrets, v)
		}
	}
	return ds
}
