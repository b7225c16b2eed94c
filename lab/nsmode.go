package lab

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"

	"go.uber.org/zap"

	"github.com/peerlab/peerlab/internal/netns"
	"github.com/peerlab/peerlab/lab/topology"
)

// Mode is how a lab places its nodes.
type Mode string

// Lab modes.
const (
	// ModeAuto picks namespace mode when running as root or when the
	// topology needs it (a node that is not an embedded speaker, a fault
	// schedule, explicit links), loopback mode otherwise.
	ModeAuto Mode = ""
	// ModeLoopback runs every node in the lab process on 127.x.y.z
	// addresses; no root needed; gobgp nodes only.
	ModeLoopback Mode = "loopback"
	// ModeNamespace gives every node its own network namespace with its
	// lab address; needs root.
	ModeNamespace Mode = "namespace"
)

// ErrNeedsRoot is returned when a namespace-mode lab is started without root.
var ErrNeedsRoot = errors.New("namespace mode needs root (network namespaces)")

// namespaceBGPPort is the BGP port in namespace mode: every node has its
// own stack, so the real port is free.
const namespaceBGPPort = 179

// resolveMode decides the mode of topo.
func resolveMode(m Mode, topo *topology.Topology) (Mode, error) {
	switch m {
	case ModeLoopback, ModeNamespace:
		return m, nil
	case ModeAuto:
		if os.Geteuid() == 0 || needsNamespaces(topo) {
			return ModeNamespace, nil
		}
		return ModeLoopback, nil
	}
	return "", fmt.Errorf("unknown lab mode %q (want loopback or namespace)", m)
}

// needsNamespaces reports whether topo cannot run in loopback mode.
func needsNamespaces(topo *topology.Topology) bool {
	if len(topo.Faults) > 0 || len(topo.Links) > 0 {
		return true
	}
	for _, n := range topo.Nodes {
		if n.Kind != topology.KindGoBGP {
			return true
		}
	}
	return false
}

// nsPlan is a namespace-mode lab's network: one namespace per node.
type nsPlan struct {
	net *netns.Lab
	dir string // the lab's folder in the state folder
	// hosts are the nodes' inits (nodehost.go).
	hosts *nodeHosts
	// tmpl is the mount namespace node hosts are cloned from.
	tmpl *netns.MountTemplate
}

// labSubnetBits is the longest prefix the shared lab segment gets: a /24
// for the usual 10.0.0.x labs, shorter when the addresses spread wider.
const labSubnetBits = 24

// planNamespaces builds the namespaces, bridge and links of topo; dir is
// the lab's folder.
func planNamespaces(ctx context.Context, dir string, topo *topology.Topology, log *zap.Logger) (*nsPlan, error) {
	if os.Geteuid() != 0 {
		return nil, ErrNeedsRoot
	}
	if err := mountNodeFolders(dir); err != nil {
		return nil, err
	}
	bits := commonPrefixBits(topo)
	spec := netns.LabSpec{Name: topo.Name}
	peers := sessionPeers(topo)
	for _, n := range topo.Nodes {
		spec.Nodes = append(spec.Nodes, netns.NodeSpec{
			Name:      n.Name,
			Addresses: []netip.Prefix{netip.PrefixFrom(n.Address, bits)},
			Peers:     peers[n.Name],
		})
	}
	for _, l := range topo.Links {
		spec.Links = append(spec.Links, netns.LinkSpec{A: l.A, B: l.B, AAddr: l.AAddr, BAddr: l.BAddr})
	}
	net, err := netns.Create(ctx, spec, log)
	if err != nil {
		return nil, fmt.Errorf("create namespaces: %w", err)
	}
	log.Debug("namespaces created", zap.Int("nodes", len(spec.Nodes)))
	p := &nsPlan{net: net, dir: dir}
	if p.tmpl, err = netns.NewMountTemplate(); err != nil {
		if derr := p.destroy(); derr != nil {
			log.Warn("remove namespaces after failed mount template", zap.Error(derr))
		}
		return nil, fmt.Errorf("start node hosts: %w", err)
	}
	if err := p.startHosts(ctx, topo, log); err != nil {
		if derr := p.destroy(); derr != nil {
			log.Warn("remove namespaces after failed node host start", zap.Error(derr))
		}
		return nil, fmt.Errorf("start node hosts: %w", err)
	}
	return p, nil
}

// commonPrefixBits is the length of the shortest prefix holding every
// node's address, capped at labSubnetBits, so all nodes share one segment.
func commonPrefixBits(topo *topology.Topology) int {
	if len(topo.Nodes) == 0 {
		return labSubnetBits
	}
	bits := labSubnetBits
	first := topo.Nodes[0].Address
	for _, n := range topo.Nodes[1:] {
		for bits > 0 && netip.PrefixFrom(first, bits).Masked() != netip.PrefixFrom(n.Address, bits).Masked() {
			bits--
		}
	}
	return bits
}

// nodeDir creates and returns a node's own folder (its file root).
func (p *nsPlan) nodeDir(node string) (string, error) {
	d := filepath.Join(nodesDir(p.dir), node)
	if err := os.MkdirAll(d, 0o755); err != nil {
		return "", fmt.Errorf("create folder of node %s: %w", node, err)
	}
	return d, nil
}

// namespace is the Namespace of one node.
func (p *nsPlan) namespace(node string) Namespace {
	return nsNamespace{lab: p.net, plan: p, node: node}
}

// destroy stops the nodes' inits (and so whatever still runs in the
// nodes) and removes the namespaces.
func (p *nsPlan) destroy() error {
	p.stopHosts()
	return errors.Join(p.tmpl.Close(), p.net.Destroy())
}

// nsNamespace adapts one node of a netns lab to the Namespace interface.
type nsNamespace struct {
	lab  *netns.Lab
	plan *nsPlan
	node string
}

// Path implements Namespace.
func (n nsNamespace) Path() string {
	p, err := n.lab.NamespacePath(n.node)
	if err != nil {
		return ""
	}
	return p
}

// StartProcess implements Namespace: cmd starts in all the namespaces of
// the node's host (network, mount, UTS, PID); for a bare network namespace
// without a plan (tests that build one with netns.Create), in that alone.
func (n nsNamespace) StartProcess(cmd *exec.Cmd) error {
	if n.plan == nil {
		return n.lab.StartProcess(n.node, cmd)
	}
	return n.plan.startInHost(n.node, cmd)
}

// StartHost starts cmd as the host of the node: PID 1 of its own PID,
// mount and UTS namespaces in the node's network namespace, given the
// node's binds (nodehost.go). The caller waits for cmd and then calls
// exited. Without a plan (a bare namespace) it is ErrNoHost.
func (n nsNamespace) StartHost(cmd *exec.Cmd) (exited func(), err error) {
	if n.plan == nil {
		return nil, ErrNoHost
	}
	return n.plan.startSelfHost(n.node, cmd)
}

// Do implements Namespace.
func (n nsNamespace) Do(fn func() error) error { return n.lab.Do(n.node, fn) }
