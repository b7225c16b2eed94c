package netns

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// NeighborMode says how the nodes of a lab learn the MAC addresses of the
// nodes they talk to over the lab bridge.
//
// The kernel's neighbour (ARP and NDP) tables are one per host, not one per
// namespace: net.ipv4.neigh.default.gc_thresh3 (1024 by default) bounds the
// dynamic entries of every namespace together, and the sysctl exists in the
// host namespace only. A route reflector with 999 clients needs 999 entries
// by itself, its clients one each, so a lab of 1,000 nodes cannot resolve
// them all: past the limit the kernel refuses new entries ("No buffer space
// available"), connections wait on ARP that never completes, and about half
// the sessions stay Active. PERMANENT entries do not count against
// gc_thresh3 (Linux 5.0 and later) and need no ARP at all, so a large lab
// writes one on each node for each of its peers.
type NeighborMode int

const (
	// NeighborsAuto writes static entries when the lab's nodes need more
	// neighbour entries, per address family, than the host's gc_thresh1
	// (128 by default: below it the kernel never even garbage-collects),
	// and leaves ARP and NDP to do their usual work otherwise, so small
	// labs behave like a real segment down to the ARP in their captures.
	NeighborsAuto NeighborMode = iota
	// NeighborsARP never writes static entries.
	NeighborsARP
	// NeighborsStatic always writes them.
	NeighborsStatic
)

// valid reports whether m is one of the modes.
func (m NeighborMode) valid() bool { return m >= NeighborsAuto && m <= NeighborsStatic }

// String implements fmt.Stringer.
func (m NeighborMode) String() string {
	switch m {
	case NeighborsAuto:
		return "auto"
	case NeighborsARP:
		return "arp"
	case NeighborsStatic:
		return "static"
	}
	return "NeighborMode(" + strconv.Itoa(int(m)) + ")"
}

// Paths of the host's neighbour table thresholds read by NeighborsAuto.
const (
	gcThresh1IPv4 = "/proc/sys/net/ipv4/neigh/default/gc_thresh1"
	gcThresh1IPv6 = "/proc/sys/net/ipv6/neigh/default/gc_thresh1"
	// defaultGCThresh1 is the kernel's default, used when the sysctl
	// cannot be read (this process is not in the host namespace).
	defaultGCThresh1 = 128
)

// static decides whether the lab planned in p gets static entries.
func (m NeighborMode) static(p *plan) bool {
	switch m {
	case NeighborsStatic:
		return true
	case NeighborsARP:
		return false
	}
	v4, v6 := p.neighborEntries()
	return v4 > readThreshold(gcThresh1IPv4) || v6 > readThreshold(gcThresh1IPv6)
}

// neighborEntries counts the entries, per family, that the nodes of p
// need for their peers: one per address of each peer's eth0.
func (p *plan) neighborEntries() (v4, v6 int) {
	for _, n := range p.nodes {
		for _, k := range n.peers {
			for _, a := range p.nodes[k].spec.Addresses {
				if a.Addr().Is4() {
					v4++
				} else {
					v6++
				}
			}
		}
	}
	return v4, v6
}

// hasIPv6 reports whether any node of p has an IPv6 address, on eth0, on
// lo or on a link of its own.
//
// A lab large enough for static neighbour entries that has none turns
// IPv6 off in its nodes' namespaces too, as in the hub: with it on, each
// node's eth0 sends duplicate address detection, MLD reports and router
// solicitations to multicast groups, which the lab bridge floods to every
// port, so a 1,000-node lab spent a tenth of its bring-up CPU delivering
// a million packets no node uses. Smaller labs keep their link-local
// addresses, as a real host has them.
func (p *plan) hasIPv6() bool {
	for _, n := range p.nodes {
		for _, a := range append(append([]netip.Prefix(nil), n.spec.Addresses...), n.spec.Loopbacks...) {
			if a.Addr().Is6() {
				return true
			}
		}
	}
	for _, l := range p.links {
		if l.spec.AAddr.Addr().Is6() || l.spec.BAddr.Addr().Is6() {
			return true
		}
	}
	return false
}

// readThreshold reads a gc_thresh sysctl, or returns defaultGCThresh1.
func readThreshold(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return defaultGCThresh1
	}
	v, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return defaultGCThresh1
	}
	return v
}

// nodeMAC is the MAC address of the eth0 of node i (from 0) of a lab:
// 02:70:6c:xx:xx:xx ("pl", locally administered, unicast) with i+1 in the
// last three bytes, so no two nodes of a lab share one and the lab knows
// every node's MAC before it exists.
func nodeMAC(i int) net.HardwareAddr {
	n := i + 1
	return net.HardwareAddr{0x02, 0x70, 0x6c, byte(n >> 16), byte(n >> 8), byte(n)}
}

// addPeerNeighbors writes, in node i's namespace, a PERMANENT neighbour
// entry on eth0 (index eth0) for every address of the eth0 of each of
// its peers.
func (b *builder) addPeerNeighbors(h *netlink.Handle, i, eth0 int) error {
	for _, k := range b.plan.nodes[i].peers {
		peer := b.plan.nodes[k]
		for _, a := range peer.spec.Addresses {
			n := &netlink.Neigh{
				LinkIndex:    eth0,
				Family:       family(a.Addr()),
				State:        netlink.NUD_PERMANENT,
				IP:           net.IP(a.Addr().Unmap().AsSlice()),
				HardwareAddr: peer.mac,
			}
			if err := h.NeighSet(n); err != nil {
				return fmt.Errorf("static neighbour %s lladdr %s (node %s) on %s: %w%s",
					a.Addr(), peer.mac, peer.spec.Name, NodeIfName, err, tableFullHint(err))
			}
		}
	}
	return nil
}

// tableFullHint explains ENOBUFS from a neighbour add: the host's table is
// full, which permanent entries only escape on Linux 5.0 and later.
func tableFullHint(err error) string {
	if !errors.Is(err, unix.ENOBUFS) {
		return ""
	}
	return fmt.Sprintf(" (the host's neighbour table is full: gc_thresh3 is %d; on a kernel older than 5.0, raise net.ipv4.neigh.default.gc_thresh3)",
		readThreshold(strings.Replace(gcThresh1IPv4, "gc_thresh1", "gc_thresh3", 1)))
}

// addBridgeEntry makes the hub bridge forward frames for node i's MAC to
// its port (hub veth index port) from the start, as a static forwarding
// entry, rather than flood every port until it has learned the address.
func (b *builder) addBridgeEntry(port, i int) error {
	n := &netlink.Neigh{
		LinkIndex:    port,
		Family:       unix.AF_BRIDGE,
		Flags:        netlink.NTF_MASTER,
		State:        netlink.NUD_NOARP, // "static" in `bridge fdb`
		HardwareAddr: b.plan.nodes[i].mac,
	}
	if err := b.lab.hub.nl.NeighSet(n); err != nil {
		return fmt.Errorf("bridge forwarding entry %s on %s: %w", n.HardwareAddr, b.plan.nodes[i].hubIf, err)
	}
	return nil
}

// family is the netlink address family of a.
func family(a netip.Addr) int {
	if a.Unmap().Is4() {
		return netlink.FAMILY_V4
	}
	return netlink.FAMILY_V6
}
