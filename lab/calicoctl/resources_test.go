package calicoctl

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/peerlab/peerlab/lab/k8s"
)

// noCluster is a cluster without nodes or pods: these tests read Calico's
// resources only.
type noCluster struct{}

func (noCluster) Nodes(context.Context) []k8s.NodeState { return nil }
func (noCluster) Pods(context.Context) []k8s.PodState   { return nil }
func (noCluster) Logs(context.Context, string, string) ([]byte, error) {
	return nil, nil
}
func (noCluster) Exec(context.Context, string, string, []string, io.Writer, io.Writer) (int, error) {
	return 0, nil
}

// serveStore serves a store seeded with a BGP configuration, two peers and
// two nodes, and points KUBECONFIG at it.
func serveStore(t *testing.T) {
	t.Helper()
	ca, err := k8s.NewCA(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.IssueServing("kube-apiserver", []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	store := k8s.NewStore()
	off, asn, peerASN := false, uint32(64512), uint32(65000)
	node1ASN := uint32(65010)
	for _, v := range []any{
		k8s.BGPConfiguration{APIVersion: k8s.CalicoAPIVersion, Kind: k8s.KindBGPConfiguration, Metadata: k8s.Meta{Name: "default"},
			Spec: k8s.BGPConfigurationSpec{NodeToNodeMeshEnabled: &off, ASNumber: &asn, LogSeverityScreen: "Info"}},
		k8s.BGPPeer{APIVersion: k8s.CalicoAPIVersion, Kind: k8s.KindBGPPeer, Metadata: k8s.Meta{Name: "tor"},
			Spec: k8s.BGPPeerSpec{PeerIP: "10.0.0.254", ASNumber: peerASN}},
		k8s.BGPPeer{APIVersion: k8s.CalicoAPIVersion, Kind: k8s.KindBGPPeer, Metadata: k8s.Meta{Name: "peer-with-route-reflectors"},
			Spec: k8s.BGPPeerSpec{NodeSelector: "all()", PeerSelector: "route-reflector == 'true'"}},
		k8s.CalicoNode{APIVersion: k8s.CalicoAPIVersion, Kind: k8s.KindCalicoNode, Metadata: k8s.Meta{Name: "master", Labels: map[string]string{"route-reflector": "true"}},
			Spec: k8s.CalicoNodeSpec{BGP: &k8s.NodeBGPSpec{IPv4Address: "10.0.0.1/24", RouteReflectorClusterID: "224.0.0.1"}}},
		k8s.CalicoNode{APIVersion: k8s.CalicoAPIVersion, Kind: k8s.KindCalicoNode, Metadata: k8s.Meta{Name: "worker1"},
			Spec: k8s.CalicoNodeSpec{BGP: &k8s.NodeBGPSpec{IPv4Address: "10.0.0.2/24", ASNumber: &node1ASN}}},
	} {
		if err := store.Seed(v); err != nil {
			t.Fatal(err)
		}
	}
	a := k8s.NewAPIServer(cert, nil, nil).WithCluster(noCluster{}, ca.Pool()).WithStore(store)
	if err := a.Start(func() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Stop() })
	admin, err := ca.IssueClient(k8s.AdminUser, []string{k8s.AdminGroup}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := (k8s.Kubeconfig{Cluster: "lab", Server: "https://" + a.Addr(), CAPEM: ca.CertPEM, Client: admin}).Render(&buf); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KUBECONFIG", path)
}

// volatile are the server-set fields that change per run.
var volatile = regexp.MustCompile(`(creationTimestamp|resourceVersion|uid): .*`)

// TestGetResources prints Calico's resources as calicoctl does, compared
// with golden files (testdata/get-*.golden; -update rewrites them).
func TestGetResources(t *testing.T) {
	serveStore(t)
	cases := []struct {
		name string
		args []string
	}{
		{"bgpconfig", []string{"get", "bgpconfig"}},
		{"bgppeer", []string{"get", "bgppeers"}},
		{"bgppeer-yaml", []string{"get", "bgppeer", "tor", "-o", "yaml"}},
		{"bgppeers-yaml", []string{"get", "bgpp", "-o", "yaml"}},
		{"nodes-wide", []string{"get", "nodes", "-o", "wide"}},
		{"node-yaml", []string{"get", "node", "worker1", "-o", "yaml"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := Main(context.Background(), tc.args, &out, &errOut); code != 0 {
				t.Fatalf("calicoctl %v: exit %d: %s", tc.args, code, errOut.String())
			}
			got := volatile.ReplaceAll(out.Bytes(), []byte("$1: X"))
			golden := filepath.Join("testdata", "get-"+tc.name+".golden")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("calicoctl %v:\n%s\nwant:\n%s", tc.args, got, want)
			}
		})
	}
	var out, errOut bytes.Buffer
	if code := Main(context.Background(), []string{"get", "bgppeer", "nope"}, &out, &errOut); code == 0 || !bytes.Contains(errOut.Bytes(), []byte("resource does not exist: BGPPeer(nope)")) {
		t.Errorf("calicoctl get bgppeer nope: exit %d, %q", code, errOut.String())
	}
}
