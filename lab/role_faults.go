package lab

import (
	"context"
	"fmt"
	"net/netip"
	"os"

	"github.com/peerlab/peerlab/lab/k8s"
	"github.com/peerlab/peerlab/lab/topology"
)

// The cluster faults act on the roles of docs/kubespray.md.

// apiserverProxyDownFault is apiserver-proxy-down: the worker's
// nginx-proxy is gone (stopped, its static pod manifest removed) and its
// calico-node restarts, as after a reboot: BIRD comes back without peers
// and the agent cannot reach the API server. Healing puts the manifest
// back and starts nginx; the agent then configures BIRD.
type apiserverProxyDownFault struct{}

// Inject implements FaultKind.
func (apiserverProxyDownFault) Inject(ctx context.Context, l *Lab, f *topology.Fault) (HealFunc, error) {
	p, c, err := l.workerRoles(f.Node)
	if err != nil {
		return nil, err
	}
	if err := p.stop(); err != nil {
		return nil, err
	}
	manifest, err := os.ReadFile(p.manifestPath())
	if err != nil {
		return nil, fmt.Errorf("read nginx-proxy manifest: %w", err)
	}
	if err := os.Remove(p.manifestPath()); err != nil {
		return nil, fmt.Errorf("remove nginx-proxy manifest: %w", err)
	}
	if c != nil {
		if err := c.restart(ctx); err != nil {
			return nil, err
		}
	}
	return func(ctx context.Context) error {
		if err := writeFile(p.manifestPath(), manifest); err != nil {
			return err
		}
		return p.start(ctx)
	}, nil
}

// apiserverProxyBadUpstreamFault is apiserver-proxy-bad-upstream: the
// worker's nginx.conf points its upstream at a wrong master address
// (params.address), nginx reloads it, and calico-node restarts. nginx
// itself stays healthy: :8081/healthz answers while :6443 fails.
type apiserverProxyBadUpstreamFault struct{}

// Inject implements FaultKind.
func (apiserverProxyBadUpstreamFault) Inject(ctx context.Context, l *Lab, f *topology.Fault) (HealFunc, error) {
	p, c, err := l.workerRoles(f.Node)
	if err != nil {
		return nil, err
	}
	addr, err := netip.ParseAddr(f.Params["address"])
	if err != nil {
		if addr, err = netip.ParseAddr(topology.DefaultBadUpstream); err != nil {
			return nil, err
		}
	}
	orig := p.config()
	bad := orig
	bad.Upstreams = []netip.AddrPort{netip.AddrPortFrom(addr, k8s.APIServerPort)}
	if err := p.reload(ctx, bad); err != nil {
		return nil, err
	}
	if c != nil {
		if err := c.restart(ctx); err != nil {
			return nil, err
		}
	}
	return func(ctx context.Context) error { return p.reload(ctx, orig) }, nil
}

// apiserverDownFault is apiserver-down: the master's API server stand-in
// stops listening; healing starts it again. calico-nodes keep the peers
// they have (confd keeps its last config) and log their failed retries.
type apiserverDownFault struct{}

// Inject implements FaultKind.
func (apiserverDownFault) Inject(_ context.Context, l *Lab, f *topology.Fault) (HealFunc, error) {
	if l.roles == nil || l.roles.apiservers[f.Node] == nil {
		return nil, fmt.Errorf("node %s has no role apiserver: %w", f.Node, ErrFaultUnsupported)
	}
	a := l.roles.apiservers[f.Node]
	if err := a.stop(); err != nil {
		return nil, err
	}
	return func(context.Context) error { return a.start() }, nil
}

// workerRoles returns a kubespray worker's proxy and calico-node.
func (l *Lab) workerRoles(node string) (*nginxProxy, *calicoNode, error) {
	if l.roles == nil || l.roles.proxies[node] == nil {
		return nil, nil, fmt.Errorf("node %s has no role kubespray-worker: %w", node, ErrFaultUnsupported)
	}
	return l.roles.proxies[node], l.roles.calico[node], nil
}
