package netns

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"

	"github.com/vishvananda/netlink"
	"go.uber.org/zap"
	"golang.org/x/sys/unix"
)

// builder carries the state of one Create call.
type builder struct {
	plan *plan
	lab  *Lab
	hook stageHook

	bridgeIndex int

	mu   sync.Mutex
	made []string // namespaces this call created, for roll-back
}

// madeNames returns the namespaces this call created so far.
func (b *builder) madeNames() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.made...)
}

// newNamespace creates namespace name and records it for roll-back. An
// existing namespace of that name is reported as ErrLabExists and is not
// recorded, so roll-back never removes what another lab made. setup runs
// inside the new namespace first (createNamed).
func (b *builder) newNamespace(name string, setup func() error) (namedNS, error) {
	ns, err := createNamed(name, setup)
	if errors.Is(err, os.ErrExist) {
		return ns, fmt.Errorf("%w: namespace %s exists (run clean to remove a stale lab)", ErrLabExists, name)
	}
	if err != nil {
		return ns, fmt.Errorf("namespace %s: %w", name, err)
	}
	b.mu.Lock()
	b.made = append(b.made, name)
	b.mu.Unlock()
	return ns, nil
}

// buildHub makes the hub namespace with its bridge up.
func (b *builder) buildHub() error {
	hub, err := b.newNamespace(b.plan.hub, disableIPv6)
	if err != nil {
		return fmt.Errorf("lab %s: hub: %w", b.plan.name, err)
	}
	b.lab.hub = hub
	br := &netlink.Bridge{LinkAttrs: netlink.NewLinkAttrs()}
	br.Name, br.Flags = BridgeName, net.FlagUp
	if err := hub.nl.LinkAdd(br); err != nil {
		return fmt.Errorf("lab %s: hub: add bridge %s: %w", b.plan.name, BridgeName, err)
	}
	b.bridgeIndex = br.Index
	return nil
}

// hubIPv6Sysctls turn IPv6 off for every interface made afterwards in the
// namespace of the thread that writes them.
var hubIPv6Sysctls = []string{"/proc/sys/net/ipv6/conf/default/disable_ipv6", "/proc/sys/net/ipv6/conf/all/disable_ipv6"}

// disableIPv6 turns IPv6 off in the namespace of the calling thread, for
// the hub: the bridge and its ports carry no address, but with IPv6 on
// each port would get a link-local address, its routes and multicast
// memberships, so that adding the 1,000th port walks routes and groups
// of the 999 before it; a 1,000-node lab took 12 s to build. The nodes
// keep IPv6 unless the lab is large and has no IPv6 address (hasIPv6).
// Without IPv6 in the kernel there is nothing to do.
func disableIPv6() error {
	for _, p := range hubIPv6Sysctls {
		f, err := os.OpenFile(p, os.O_WRONLY, 0)
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("disable IPv6: %w", err)
		}
		_, err = f.WriteString("1")
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("disable IPv6: write %s: %w", p, err)
		}
	}
	return nil
}

// disableIPv6OnNewLinks turns IPv6 off for interfaces made afterwards in
// the namespace of the calling thread, for a node before its eth0 arrives.
// Unlike the "all" setting, which walks every interface under the
// routing lock, it is a plain store; lo keeps ::1 and sends nothing.
func disableIPv6OnNewLinks() error {
	err := os.WriteFile(hubIPv6Sysctls[0], []byte("1"), 0)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("disable IPv6: write %s: %w", hubIPv6Sysctls[0], err)
	}
	return nil
}

// buildNode makes node i's namespace, its veth to the hub bridge, and its
// addresses on eth0 and lo.
func (b *builder) buildNode(i int) (n *labNode, err error) {
	pn := b.plan.nodes[i]
	// Before eth0 arrives, so it never gets an IPv6 address
	// (neighbors.go, hasIPv6).
	var setup func() error
	if b.plan.noIPv6 {
		setup = disableIPv6OnNewLinks
	}
	ns, err := b.newNamespace(pn.ns, setup)
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", pn.spec.Name, err)
	}
	defer func() {
		if err != nil {
			ns.close()
			err = fmt.Errorf("node %s: %w", pn.spec.Name, err)
		}
	}()
	veth := &netlink.Veth{LinkAttrs: netlink.NewLinkAttrs(), PeerName: NodeIfName, PeerNamespace: netlink.NsFd(ns.fd),
		PeerHardwareAddr: pn.mac}
	veth.Name, veth.Flags, veth.MasterIndex = pn.hubIf, net.FlagUp, b.bridgeIndex
	if err := b.lab.hub.nl.LinkAdd(veth); err != nil {
		return nil, fmt.Errorf("add veth %s(hub)-%s: %w", pn.hubIf, NodeIfName, err)
	}
	// The alias names the node in `ip -n plab-<lab> link`; the kernel
	// ignores an alias given at creation.
	if err := b.lab.hub.nl.LinkSetAlias(veth, pn.spec.Name); err != nil {
		return nil, fmt.Errorf("set alias of %s: %w", pn.hubIf, err)
	}
	if err := b.addBridgeEntry(veth.Index, i); err != nil {
		return nil, err
	}
	eth, err := ns.nl.LinkByName(NodeIfName)
	if err != nil {
		return nil, fmt.Errorf("find %s: %w", NodeIfName, err)
	}
	if err := ns.nl.LinkSetUp(eth); err != nil {
		return nil, fmt.Errorf("set %s up: %w", NodeIfName, err)
	}
	if err := addAddrs(ns.nl, eth.Attrs().Index, NodeIfName, pn.spec.Addresses); err != nil {
		return nil, err
	}
	if err := addAddrs(ns.nl, 1, "lo", pn.spec.Loopbacks); err != nil {
		return nil, err
	}
	if b.plan.static {
		if err := b.addPeerNeighbors(ns.nl, i, eth.Attrs().Index); err != nil {
			return nil, err
		}
	}
	b.lab.log.Debug("node built", zap.String("node", pn.spec.Name), zap.String("netns", pn.ns))
	return &labNode{name: pn.spec.Name, ns: pn.ns, h: ns}, nil
}

// buildLink makes point-to-point link i: a veth created in node A's
// namespace with its peer placed straight into node B's.
func (b *builder) buildLink(i int) error {
	pl := b.plan.links[i]
	na, nb := b.lab.nodes[pl.spec.A], b.lab.nodes[pl.spec.B]
	veth := &netlink.Veth{LinkAttrs: netlink.NewLinkAttrs(), PeerName: pl.bName, PeerNamespace: netlink.NsFd(nb.h.fd)}
	veth.Name, veth.Flags = pl.aName, net.FlagUp
	if err := na.h.nl.LinkAdd(veth); err != nil {
		return fmt.Errorf("link %s:%s-%s:%s: add veth: %w", pl.spec.A, pl.aName, pl.spec.B, pl.bName, err)
	}
	peer, err := nb.h.nl.LinkByName(pl.bName)
	if err != nil {
		return fmt.Errorf("link %s:%s-%s:%s: find %s: %w", pl.spec.A, pl.aName, pl.spec.B, pl.bName, pl.bName, err)
	}
	if err := nb.h.nl.LinkSetUp(peer); err != nil {
		return fmt.Errorf("link %s:%s-%s:%s: set up: %w", pl.spec.A, pl.aName, pl.spec.B, pl.bName, err)
	}
	if pl.spec.AAddr.IsValid() {
		if err := addAddrs(na.h.nl, veth.Index, pl.aName, []netip.Prefix{pl.spec.AAddr}); err != nil {
			return fmt.Errorf("link %s-%s: node %s: %w", pl.spec.A, pl.spec.B, pl.spec.A, err)
		}
	}
	if pl.spec.BAddr.IsValid() {
		if err := addAddrs(nb.h.nl, peer.Attrs().Index, pl.bName, []netip.Prefix{pl.spec.BAddr}); err != nil {
			return fmt.Errorf("link %s-%s: node %s: %w", pl.spec.A, pl.spec.B, pl.spec.B, err)
		}
	}
	return nil
}

// addRoutes adds node i's static routes.
func (b *builder) addRoutes(i int) error {
	pn := b.plan.nodes[i]
	n := b.lab.nodes[pn.spec.Name]
	for j, r := range pn.spec.Routes {
		route := &netlink.Route{Dst: ipNet(r.Dst.Masked())}
		if r.Via.IsValid() {
			route.Gw = net.IP(r.Via.Unmap().AsSlice())
		}
		if r.Src.IsValid() {
			route.Src = net.IP(r.Src.Unmap().AsSlice())
		}
		if r.Dev != "" {
			link, err := n.h.nl.LinkByName(r.Dev)
			if err != nil {
				return fmt.Errorf("node %s: routes[%d]: find %s: %w", pn.spec.Name, j, r.Dev, err)
			}
			route.LinkIndex = link.Attrs().Index
		}
		if err := n.h.nl.RouteAdd(route); err != nil {
			return fmt.Errorf("node %s: routes[%d]: add %s: %w", pn.spec.Name, j, describeRoute(r), err)
		}
	}
	return nil
}

// addAddrs adds addrs to interface index (named ifname, for errors). IPv6
// addresses skip duplicate address detection so they are usable at once.
func addAddrs(h *netlink.Handle, index int, ifname string, addrs []netip.Prefix) error {
	for _, a := range addrs {
		addr := &netlink.Addr{IPNet: ipNet(a), LinkIndex: index}
		if a.Addr().Is6() && !a.Addr().Is4In6() {
			addr.Flags = unix.IFA_F_NODAD
		}
		if err := h.AddrAdd(nil, addr); err != nil {
			return fmt.Errorf("add %v to %s: %w", a, ifname, err)
		}
	}
	return nil
}

// ipNet converts p, keeping its host bits.
func ipNet(p netip.Prefix) *net.IPNet {
	a := p.Addr().Unmap()
	return &net.IPNet{IP: net.IP(a.AsSlice()), Mask: net.CIDRMask(p.Bits(), a.BitLen())}
}

func describeRoute(r Route) string {
	s := r.Dst.String()
	if r.Via.IsValid() {
		s += " via " + r.Via.String()
	}
	if r.Dev != "" {
		s += " dev " + r.Dev
	}
	return s
}
