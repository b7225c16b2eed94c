package lab

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"time"

	"go.uber.org/zap"

	"github.com/peerlab/peerlab/lab/k8s"
	"github.com/peerlab/peerlab/lab/topology"
)

// apiServerRole is a node's Kubernetes API server stand-in, served by the
// lab process on <address>:6443 inside the node's namespace.
type apiServerRole struct {
	addr netip.AddrPort
	ns   Namespace
	srv  *k8s.APIServer
}

// newAPIServerRole signs a serving certificate for n (its address,
// 127.0.0.1, the kubernetes service names) and prepares the stand-in
// serving nodes, cluster and the Calico datastore store to clients with
// certificates of ca.
func newAPIServerRole(n *topology.Node, ns Namespace, ca *k8s.CA, nodes []k8s.NodeInfo, cluster k8s.Cluster, store *k8s.Store, log *zap.Logger) (*apiServerRole, error) {
	ips := []netip.Addr{n.Address, netip.MustParseAddr("127.0.0.1")}
	dns := []string{n.Name, "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local", "localhost"}
	cert, err := ca.IssueServing("kube-apiserver", ips, dns, time.Now())
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", n.Name, err)
	}
	return &apiServerRole{
		addr: netip.AddrPortFrom(n.Address, k8s.APIServerPort),
		ns:   ns,
		srv:  k8s.NewAPIServer(cert, nodes, log).WithCluster(cluster, ca.Pool()).WithStore(store),
	}, nil
}

// start listens inside the node's namespace and serves.
func (a *apiServerRole) start() error {
	return a.srv.Start(func() (net.Listener, error) {
		var ln net.Listener
		err := a.ns.Do(func() error {
			var err error
			ln, err = (&net.ListenConfig{}).Listen(context.Background(), "tcp", a.addr.String())
			return err
		})
		return ln, err
	})
}

// stop closes the listener and the connections.
func (a *apiServerRole) stop() error { return a.srv.Stop() }
