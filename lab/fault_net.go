package lab

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/peerlab/peerlab/internal/netfault"
	"github.com/peerlab/peerlab/lab/topology"
)

// netFault applies a network fault from internal/netfault inside the
// node's namespace.
type netFault struct {
	// make builds the fault for one injection (netem takes parameters).
	make func(f *topology.Fault) (netfault.Fault, error)
}

// Inject implements FaultKind.
func (k netFault) Inject(ctx context.Context, l *Lab, f *topology.Fault) (HealFunc, error) {
	t, err := l.netTarget(f)
	if err != nil {
		return nil, err
	}
	nf, err := k.make(f)
	if err != nil {
		return nil, err
	}
	if err := nf.Inject(ctx, t); err != nil {
		return nil, err
	}
	return func(ctx context.Context) error { return nf.Heal(ctx, t) }, nil
}

// netTarget describes f's node for internal/netfault.
func (l *Lab) netTarget(f *topology.Fault) (netfault.Target, error) {
	if l.ns == nil {
		return netfault.Target{}, fmt.Errorf("%w: network faults need namespace mode", ErrFaultUnsupported)
	}
	path, err := l.ns.net.NamespacePath(f.Node)
	if err != nil {
		return netfault.Target{}, err
	}
	t := netfault.Target{
		Node:   f.Node,
		NSPath: path,
		Addr:   l.topo.Node(f.Node).Address,
		Port:   namespaceBGPPort,
		Log:    l.log,
	}
	if f.Peer != "" {
		t.Peer = l.topo.Node(f.Peer).Address
	}
	return t, nil
}

// netemFault builds netem from the fault's params (delay, jitter, loss).
func netemFault(f *topology.Fault) (netfault.Fault, error) {
	p := netfault.NetemParams{}
	if len(f.Params) == 0 {
		p = netfault.DefaultNetemParams()
	}
	for key, val := range f.Params {
		var err error
		switch key {
		case "delay":
			p.Delay, err = time.ParseDuration(val)
		case "jitter":
			p.Jitter, err = time.ParseDuration(val)
		case "loss":
			p.LossPercent, err = strconv.ParseFloat(val, 64)
		default:
			err = fmt.Errorf("unknown parameter")
		}
		if err != nil {
			return nil, fmt.Errorf("netem params.%s %q: %w", key, val, err)
		}
	}
	return netfault.NewNetem(p), nil
}

// snatFault translates the node's BGP traffic to another address of its
// own, which it first adds to the node's loopback (params.address, by
// default 192.0.2.<last byte of the node's address>).
type snatFault struct{}

// Inject implements FaultKind.
func (snatFault) Inject(ctx context.Context, l *Lab, f *topology.Fault) (HealFunc, error) {
	t, err := l.netTarget(f)
	if err != nil {
		return nil, err
	}
	if t.SNATAddr, err = snatAddress(f, t.Addr); err != nil {
		return nil, err
	}
	ns := l.ns.namespace(f.Node)
	addr := &netlink.Addr{IPNet: netlinkPrefix(netip.PrefixFrom(t.SNATAddr, t.SNATAddr.BitLen()))}
	if err := ns.Do(func() error { return addrOnLoopback(addr, true) }); err != nil {
		return nil, fmt.Errorf("add %s to lo of %s: %w", t.SNATAddr, f.Node, err)
	}
	nf := netfault.NewSNATNodeTraffic()
	if err := nf.Inject(ctx, t); err != nil {
		_ = ns.Do(func() error { return addrOnLoopback(addr, false) })
		return nil, err
	}
	return func(ctx context.Context) error {
		err := nf.Heal(ctx, t)
		if derr := ns.Do(func() error { return addrOnLoopback(addr, false) }); derr != nil && err == nil {
			err = fmt.Errorf("remove %s from lo of %s: %w", t.SNATAddr, f.Node, derr)
		}
		return err
	}, nil
}

// snatAddress is params.address or the TEST-NET-1 address derived from
// the node's address.
func snatAddress(f *topology.Fault, node netip.Addr) (netip.Addr, error) {
	if v, ok := f.Params["address"]; ok {
		a, err := netip.ParseAddr(v)
		if err != nil {
			return netip.Addr{}, fmt.Errorf("params.address: %w", err)
		}
		return a, nil
	}
	if !node.Is4() {
		return netip.Addr{}, fmt.Errorf("snat-node-traffic on an IPv6 node needs params.address")
	}
	b := node.As4()
	return netip.AddrFrom4([4]byte{192, 0, 2, b[3]}), nil
}

// addrOnLoopback adds or removes addr on lo of the current namespace.
func addrOnLoopback(addr *netlink.Addr, add bool) error {
	lo, err := netlink.LinkByName("lo")
	if err != nil {
		return err
	}
	if add {
		return netlink.AddrAdd(lo, addr)
	}
	return netlink.AddrDel(lo, addr)
}
