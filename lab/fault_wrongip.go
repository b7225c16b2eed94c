package lab

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink"

	"github.com/peerlab/peerlab/internal/bird"
	"github.com/peerlab/peerlab/lab/topology"
)

// defaultWrongIP is the address wrong-ip-autodetect gives the node when
// params.address is not set: Docker's docker0 bridge address, the one
// Calico's first-found autodetection classically picks by mistake.
var defaultWrongIP = netip.MustParsePrefix("172.17.0.1/16")

// wrongIPFault reproduces Calico autodetecting the wrong node IP: the
// address of another interface (params.address, default 172.17.0.1/16,
// docker0's) is added to the node's lo, the node's BIRD takes it as its
// node IP (BIRD 1.6: `listen bgp address` and every protocol's `source
// address`; BIRD 2: every protocol's `local` address), and every peer of
// the node, whatever its kind, is told that address as the node's
// neighbor address, as calico/node's datastore entry would tell them. The
// peers then try to reach an address that is not on their segment.
// Healing restores every configuration and removes the address. The node
// must be a BIRD node (bird or bird2).
type wrongIPFault struct{}

// Inject implements FaultKind.
func (wrongIPFault) Inject(ctx context.Context, l *Lab, f *topology.Fault) (_ HealFunc, err error) {
	b, ok := l.nodes[f.Node].(*birdNode)
	if !ok {
		return nil, fmt.Errorf("node %s (kind %s): only BIRD nodes autodetect their IP: %w", f.Node, l.topo.Node(f.Node).Kind, ErrFaultUnsupported)
	}
	if l.ns == nil {
		return nil, fmt.Errorf("%w: wrong-ip-autodetect needs namespace mode", ErrFaultUnsupported)
	}
	pfx, err := wrongIPPrefix(f)
	if err != nil {
		return nil, err
	}
	for _, n := range l.topo.Nodes {
		if n.Address == pfx.Addr() {
			return nil, fmt.Errorf("params.address %s is node %s's lab address", pfx.Addr(), n.Name)
		}
	}
	var heals healStack
	defer func() {
		if err != nil {
			_ = heals.heal(context.WithoutCancel(ctx))
		}
	}()
	ns := l.ns.namespace(f.Node)
	addr := &netlink.Addr{IPNet: netlinkPrefix(pfx)}
	if err := ns.Do(func() error { return addrOnLoopback(addr, true) }); err != nil {
		return nil, fmt.Errorf("add %s to lo of %s: %w", pfx, f.Node, err)
	}
	heals.push(func(context.Context) error {
		if err := ns.Do(func() error { return addrOnLoopback(addr, false) }); err != nil {
			return fmt.Errorf("remove %s from lo of %s: %w", pfx, f.Node, err)
		}
		return nil
	})
	wrong := pfx.Addr()
	h, err := b.overlay(ctx, birdOverlay{fn: func(c *bird.Config) { c.NodeIP = wrong }})
	if err != nil {
		return nil, err
	}
	heals.push(h)
	for _, s := range sessionsOf(l.topo, f.Node) {
		peer := s.Other(f.Node)
		sc, ok := l.nodes[peer].(sessionConfigurer)
		if !ok {
			return nil, fmt.Errorf("peer %s (kind %s): %w", peer, l.topo.Node(peer).Kind, ErrFaultUnsupported)
		}
		h, err := sc.overlaySessions(ctx, f.Node, func(ss *sessionSettings) { ss.Address = wrong })
		if err != nil {
			return nil, fmt.Errorf("neighbor address of %s on %s: %w", f.Node, peer, err)
		}
		heals.push(h)
	}
	return heals.heal, nil
}

// wrongIPPrefix is params.address as a host address (/32), or the default
// docker0 address with its /16.
func wrongIPPrefix(f *topology.Fault) (netip.Prefix, error) {
	s := f.Params["address"]
	if s == "" {
		return defaultWrongIP, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return netip.Prefix{}, fmt.Errorf("params.address %q is not an IPv4 address", s)
	}
	return netip.PrefixFrom(a, 32), nil
}
