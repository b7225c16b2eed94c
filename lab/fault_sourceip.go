package lab

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"syscall"

	"github.com/vishvananda/netlink"

	"github.com/peerlab/peerlab/internal/bird"
	"github.com/peerlab/peerlab/lab/topology"
)

// sourceIPFault takes the node's lab address away from its interface and
// puts another address of the same segment there (params.address; by
// default the node's address with 100 added to its last byte, or taken
// from it when that passes 254). It plays a Calico node whose IP changed
// while bird.cfg still says `source address OLD`: the node still reaches
// the segment, but nothing can bind the old address any more. Any node
// kind: the fault acts on the namespace, not on the daemon.
type sourceIPFault struct{}

// Inject implements FaultKind.
func (sourceIPFault) Inject(_ context.Context, l *Lab, f *topology.Fault) (HealFunc, error) {
	if l.ns == nil {
		return nil, fmt.Errorf("%w: source-ip-missing needs namespace mode", ErrFaultUnsupported)
	}
	old := netip.PrefixFrom(l.topo.Node(f.Node).Address, commonPrefixBits(l.topo))
	repl, err := replacementAddress(l.topo, f, old)
	if err != nil {
		return nil, err
	}
	s := &addrSwap{from: old, to: repl}
	ns := l.ns.namespace(f.Node)
	if err := ns.Do(s.apply); err != nil {
		return nil, fmt.Errorf("replace %s by %s on %s: %w", old, repl, f.Node, err)
	}
	return func(ctx context.Context) error {
		if err := ns.Do(s.undo); err != nil {
			return fmt.Errorf("put %s back on %s: %w", old, f.Node, err)
		}
		if r, ok := l.nodes[f.Node].(addressRestorer); ok {
			return r.addressRestored(ctx)
		}
		return nil
	}, nil
}

// addressRestorer is implemented by nodes whose daemon does not recover
// by itself once its address is back.
type addressRestorer interface {
	addressRestored(ctx context.Context) error
}

// addressRestored implements addressRestorer. BIRD 1.6 binds its BGP
// listening socket to the node address (`listen bgp address`); a protocol
// that restarts while the address is gone cannot open it and BIRD
// disables the protocol ("Error: No listening socket"), which then stays
// down until someone enables it: heal does what the operator would,
// `birdc enable all`. BIRD 2 retries by itself; enabling changes nothing.
func (b *birdNode) addressRestored(ctx context.Context) error {
	err := b.cmd(ctx, func(c *bird.Client) error {
		_, err := c.Cmd(ctx, "enable all")
		return err
	})
	if err != nil {
		return fmt.Errorf("enable the BGP protocols of %s again: %w", b.spec.Node.Name, err)
	}
	return nil
}

// replacementAddress is params.address, or the node's address with its
// last byte moved by 100, with the node's prefix length. It must lie in
// the node's segment and belong to no node of the lab.
func replacementAddress(topo *topology.Topology, f *topology.Fault, old netip.Prefix) (netip.Prefix, error) {
	if !old.Addr().Is4() {
		return netip.Prefix{}, fmt.Errorf("%w: source-ip-missing on IPv6 node %s", ErrFaultUnsupported, f.Node)
	}
	var a netip.Addr
	if v, ok := f.Params["address"]; ok {
		var err error
		if a, err = netip.ParseAddr(v); err != nil {
			return netip.Prefix{}, fmt.Errorf("params.address: %w", err)
		}
	} else {
		b := old.Addr().As4()
		if b[3] <= 154 {
			b[3] += 100
		} else {
			b[3] -= 100
		}
		a = netip.AddrFrom4(b)
	}
	if !old.Masked().Contains(a) || a == old.Addr() {
		return netip.Prefix{}, fmt.Errorf("params.address %s: want another address of %s's segment %s", a, f.Node, old.Masked())
	}
	for _, n := range topo.Nodes {
		if n.Address == a {
			return netip.Prefix{}, fmt.Errorf("replacement address %s is node %s's (set params.address)", a, n.Name)
		}
	}
	return netip.PrefixFrom(a, old.Bits()), nil
}

// addrSwap replaces one interface address by another in the current
// namespace, and undoes it, keeping the routes the swap would lose.
type addrSwap struct {
	from, to netip.Prefix
	link     netlink.Link
	// routes are the IPv4 routes of the main table before the swap.
	routes []netlink.Route
}

// apply removes from and adds to on the link that holds from.
func (s *addrSwap) apply() error {
	link, err := linkWithAddr(s.from.Addr())
	if err != nil {
		return err
	}
	s.link = link
	if s.routes, err = netlink.RouteList(nil, netlink.FAMILY_V4); err != nil {
		return fmt.Errorf("list routes: %w", err)
	}
	if err := netlink.AddrDel(link, &netlink.Addr{IPNet: netlinkPrefix(s.from)}); err != nil {
		return fmt.Errorf("delete %s: %w", s.from, err)
	}
	if err := netlink.AddrAdd(link, &netlink.Addr{IPNet: netlinkPrefix(s.to)}); err != nil {
		_ = netlink.AddrAdd(link, &netlink.Addr{IPNet: netlinkPrefix(s.from)})
		return fmt.Errorf("add %s: %w", s.to, err)
	}
	// Static routes through the segment went with the old address; routes
	// that named it as their source cannot come back until heal.
	return s.restoreRoutes(s.from.Addr())
}

// undo removes to and puts from back with the routes it had.
func (s *addrSwap) undo() error {
	if err := netlink.AddrDel(s.link, &netlink.Addr{IPNet: netlinkPrefix(s.to)}); err != nil && !errors.Is(err, syscall.EADDRNOTAVAIL) {
		return fmt.Errorf("delete %s: %w", s.to, err)
	}
	if err := netlink.AddrAdd(s.link, &netlink.Addr{IPNet: netlinkPrefix(s.from)}); err != nil && !errors.Is(err, syscall.EEXIST) {
		return fmt.Errorf("add %s: %w", s.from, err)
	}
	return s.restoreRoutes(netip.Addr{})
}

// restoreRoutes adds back every recorded static route that is missing,
// except those whose preferred source is skipSrc. Routes the kernel makes
// for an address (proto kernel) come and go with the address itself.
func (s *addrSwap) restoreRoutes(skipSrc netip.Addr) error {
	var errs []error
	for _, r := range s.routes {
		if r.Protocol == netlink.RouteProtocol(syscall.RTPROT_KERNEL) {
			continue
		}
		if src, ok := netip.AddrFromSlice(r.Src); ok && skipSrc.IsValid() && src.Unmap() == skipSrc {
			continue
		}
		if err := netlink.RouteAdd(&r); err != nil && !errors.Is(err, syscall.EEXIST) {
			errs = append(errs, fmt.Errorf("restore route %s: %w", r, err))
		}
	}
	return errors.Join(errs...)
}

// linkWithAddr finds the link holding a in the current namespace.
func linkWithAddr(a netip.Addr) (netlink.Link, error) {
	addrs, err := netlink.AddrList(nil, netlink.FAMILY_V4)
	if err != nil {
		return nil, fmt.Errorf("list addresses: %w", err)
	}
	for _, ad := range addrs {
		if got, ok := netip.AddrFromSlice(ad.IP); ok && got.Unmap() == a {
			link, err := netlink.LinkByIndex(ad.LinkIndex)
			if err != nil {
				return nil, fmt.Errorf("link of %s: %w", a, err)
			}
			return link, nil
		}
	}
	return nil, fmt.Errorf("no interface holds %s", a)
}
