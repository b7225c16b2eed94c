package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/peerlab/peerlab/lab/k8s"
	"github.com/peerlab/peerlab/lab/topology"
)

// clusterRoles plays the Kubernetes pieces of a lab's nodes (`roles:`,
// docs/kubespray.md): the API server stand-ins, kubespray's nginx-proxy on
// the workers and calico-node's confd agent on every calico-node. They
// start in that order, each before what needs it: the API servers and
// proxies before the nodes, the agents once BIRD runs.
type clusterRoles struct {
	log *zap.Logger
	ca  *k8s.CA

	apiservers map[string]*apiServerRole
	proxies    map[string]*nginxProxy
	calico     map[string]*calicoNode
	// order lists the calico-nodes in topology order.
	order []string
}

// newClusterRoles builds the roles of l's topology and starts the API
// servers and proxies; it returns nil when no node has a role. Every node
// with a role gets the cluster's credentials (writeCredentials).
func (l *Lab) newClusterRoles(ctx context.Context) (*clusterRoles, error) {
	hasRoles := false
	for _, n := range l.topo.Nodes {
		hasRoles = hasRoles || len(n.Roles) > 0
	}
	if !hasRoles {
		return nil, nil
	}
	if l.ns == nil {
		return nil, errors.New("node roles (apiserver, calico-node, kubespray-worker) need namespace mode")
	}
	ca, err := k8s.NewCA(time.Now())
	if err != nil {
		return nil, err
	}
	r := &clusterRoles{
		log: l.log, ca: ca,
		apiservers: map[string]*apiServerRole{},
		proxies:    map[string]*nginxProxy{},
		calico:     map[string]*calicoNode{},
	}
	var masters []netip.Addr
	var calicoInfos []k8s.NodeInfo
	bits := commonPrefixBits(l.topo)
	for _, n := range l.topo.Nodes {
		if n.HasRole(topology.RoleAPIServer) {
			masters = append(masters, n.Address)
		}
		if n.HasRole(topology.RoleCalicoNode) {
			calicoInfos = append(calicoInfos, k8s.NodeInfo{Name: n.Name, Address: netip.PrefixFrom(n.Address, bits), ASN: n.ASN})
		}
	}
	store := k8s.NewStore()
	if err := seedStore(store, l.topo, calicoInfos); err != nil {
		return nil, err
	}
	admin, err := ca.IssueClient(k8s.AdminUser, []string{k8s.AdminGroup}, time.Now())
	if err != nil {
		return nil, err
	}
	if err := l.writeCredentials(ca, admin, masters); err != nil {
		return nil, err
	}
	tools := filepath.Join(l.dir, toolsDirName)
	if err := writeTools(tools); err != nil {
		return nil, err
	}
	cluster := &labCluster{topo: l.topo, roles: r, ns: l.ns, tools: tools, created: time.Now()}
	// From here on a failure must stop what already runs.
	ok := false
	defer func() {
		if !ok {
			r.stop()
		}
	}()
	for _, n := range l.topo.Nodes {
		if !n.HasRole(topology.RoleAPIServer) {
			continue
		}
		a, err := newAPIServerRole(n, l.ns.namespace(n.Name), ca, calicoInfos, cluster, store, l.log.With(zap.String("node", n.Name)))
		if err != nil {
			return nil, err
		}
		r.apiservers[n.Name] = a
		if err := a.start(); err != nil {
			return nil, fmt.Errorf("node %s: %w", n.Name, err)
		}
	}
	var nginxBin *nginxBinary
	for _, n := range l.topo.Nodes {
		if !n.HasRole(topology.RoleKubesprayWorker) {
			continue
		}
		if nginxBin == nil {
			if nginxBin, err = findNginx(ctx); err != nil {
				return nil, err
			}
		}
		dir, _ := l.ns.nodeDir(n.Name)
		p := newNginxProxy(n.Name, dir, l.ns.namespace(n.Name), nginxBin, masters, l.log.With(zap.String("node", n.Name)))
		r.proxies[n.Name] = p
		if err := p.start(ctx); err != nil {
			return nil, fmt.Errorf("node %s: %w", n.Name, err)
		}
	}
	for _, n := range l.topo.Nodes {
		if !n.HasRole(topology.RoleCalicoNode) {
			continue
		}
		b, isBIRD := l.nodes[n.Name].(*birdNode)
		if !isBIRD {
			return nil, fmt.Errorf("node %s: role calico-node needs a BIRD node, not kind %s", n.Name, n.Kind)
		}
		r.calico[n.Name] = newCalicoNode(b, apiServerURL(n, masters), l.topo, l.log.With(zap.String("node", n.Name)))
		r.order = append(r.order, n.Name)
	}
	ok = true
	return r, nil
}

// writeCredentials gives every node with a role the cluster CA, the admin
// client certificate and kubespray's admin.conf pointing at the API
// server the way the node reaches it (apiServerURL), and the lab its
// admin kubeconfig (KubeconfigFile) naming the first master.
func (l *Lab) writeCredentials(ca *k8s.CA, admin k8s.ClientCert, masters []netip.Addr) error {
	for _, n := range l.topo.Nodes {
		if len(n.Roles) == 0 {
			continue
		}
		dir, err := l.ns.nodeDir(n.Name)
		if err != nil {
			return err
		}
		var conf bytes.Buffer
		if err := (k8s.Kubeconfig{Cluster: l.topo.Name, Server: apiServerURL(n, masters), CAPEM: ca.CertPEM}).Render(&conf); err != nil {
			return err
		}
		for rel, data := range map[string][]byte{
			"etc/kubernetes/ssl/ca.crt":        ca.CertPEM,
			"etc/kubernetes/ssl/admin.pem":     admin.CertPEM,
			"etc/kubernetes/ssl/admin-key.pem": admin.KeyPEM,
			"etc/kubernetes/admin.conf":        conf.Bytes(),
		} {
			if err := writeFile(filepath.Join(dir, filepath.FromSlash(rel)), data); err != nil {
				return fmt.Errorf("node %s: %w", n.Name, err)
			}
		}
	}
	if len(masters) == 0 {
		return nil
	}
	var conf bytes.Buffer
	server := "https://" + netip.AddrPortFrom(masters[0], k8s.APIServerPort).String()
	if err := (k8s.Kubeconfig{Cluster: l.topo.Name, Server: server, CAPEM: ca.CertPEM, Client: admin}).Render(&conf); err != nil {
		return err
	}
	f := filepath.Join(l.dir, kubeconfigName)
	if err := os.WriteFile(f, conf.Bytes(), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", f, err)
	}
	return nil
}

// apiServerURL is where node n's calico-node reaches the API server: the
// local nginx-proxy on a kubespray worker, its own API server on a master,
// else the first master directly.
func apiServerURL(n *topology.Node, masters []netip.Addr) string {
	switch {
	case n.HasRole(topology.RoleKubesprayWorker):
		return fmt.Sprintf("https://127.0.0.1:%d", k8s.APIServerPort)
	case n.HasRole(topology.RoleAPIServer):
		return "https://" + netip.AddrPortFrom(n.Address, k8s.APIServerPort).String()
	case len(masters) > 0:
		return "https://" + netip.AddrPortFrom(masters[0], k8s.APIServerPort).String()
	}
	return ""
}

// startAgents starts every calico-node's agent; they run until ctx ends
// or stop is called.
func (r *clusterRoles) startAgents(ctx context.Context) error {
	if r == nil {
		return nil
	}
	for _, name := range r.order {
		if err := r.calico[name].start(ctx); err != nil {
			return fmt.Errorf("node %s: %w", name, err)
		}
	}
	return nil
}

// stop ends the agents, the proxies and the API servers, in that order.
func (r *clusterRoles) stop() error {
	if r == nil {
		return nil
	}
	var errs []error
	var wg sync.WaitGroup
	for _, c := range r.calico {
		wg.Add(1)
		go func() { defer wg.Done(); c.stopAgent() }()
	}
	wg.Wait()
	for name, p := range r.proxies {
		if err := p.stop(); err != nil {
			errs = append(errs, fmt.Errorf("node %s: %w", name, err))
		}
	}
	for name, a := range r.apiservers {
		if err := a.stop(); err != nil {
			errs = append(errs, fmt.Errorf("node %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// NodeReadiness is one calico-node's BIRD readiness, as `calico-node
// -bird-ready` tells it.
type NodeReadiness struct {
	Node  string `json:"node"`
	Ready bool   `json:"ready"`
	// Message is calico-node's message when not ready, "" when ready.
	Message string `json:"message,omitempty"`
}

// Readiness runs calico-node's BIRD readiness check on every calico-node
// of the lab now, in topology order; nil when the lab has none.
func (l *Lab) Readiness(ctx context.Context) []NodeReadiness {
	if l.roles == nil {
		return nil
	}
	var out []NodeReadiness
	for _, name := range l.roles.order {
		msg := l.roles.calico[name].readiness(ctx)
		out = append(out, NodeReadiness{Node: name, Ready: msg == "", Message: msg})
	}
	return out
}

// writeFile writes data to path, creating its folder.
func writeFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create folder for %s: %w", path, err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
