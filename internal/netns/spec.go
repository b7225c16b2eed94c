package netns

import (
	"fmt"
	"net"
	"net/netip"
)

// LabSpec describes a lab to [Create].
type LabSpec struct {
	// Name is the lab name: letters, digits, '.', '_' and '-', at most 32
	// bytes, no "--" and no trailing '-'.
	Name string
	// Nodes get one namespace each, attached to the lab bridge by eth0.
	Nodes []NodeSpec
	// Links are point-to-point veth pairs between two nodes.
	Links []LinkSpec
	// Neighbors says how nodes learn each other's MAC address on the lab
	// bridge; the zero value, NeighborsAuto, uses ARP and NDP in small
	// labs and static entries in large ones (see neighbors.go).
	Neighbors NeighborMode
}

// NodeSpec describes one node of a lab.
type NodeSpec struct {
	// Name is the node name: letters, digits, '.', '_' and '-', at most 63
	// bytes, unique in the lab.
	Name string
	// Addresses go on eth0, e.g. 10.0.0.1/24.
	Addresses []netip.Prefix
	// Loopbacks are extra addresses on lo, e.g. 192.0.2.1/32 to source
	// traffic from.
	Loopbacks []netip.Prefix
	// Routes are added after every address and link of the lab exists.
	Routes []Route
	// Peers name the nodes this one exchanges traffic with over the lab
	// bridge (its BGP peers, say). When the lab writes static neighbour
	// entries (LabSpec.Neighbors), this node gets one per address of each
	// peer's eth0; traffic to any other node resolves as usual.
	Peers []string
}

// Route is a static route inside a node namespace.
type Route struct {
	// Dst is the destination, e.g. 0.0.0.0/0.
	Dst netip.Prefix
	// Via is the gateway; the zero Addr means a direct route over Dev.
	Via netip.Addr
	// Dev is the output interface: "eth0", "lo", a link interface name, or
	// "" to let the kernel choose from Via.
	Dev string
	// Src is the preferred source address; the zero Addr leaves it unset.
	Src netip.Addr
}

// LinkSpec is a point-to-point veth pair between nodes A and B.
type LinkSpec struct {
	// A and B name the two nodes; they must differ.
	A, B string
	// AAddr and BAddr are the addresses of A's and B's end; a zero Prefix
	// leaves that end unaddressed.
	AAddr, BAddr netip.Prefix
	// AIfName and BIfName name the ends; "" means p-<peer> (see package doc).
	AIfName, BIfName string
}

// plan is a validated LabSpec with every derived name computed.
type plan struct {
	name  string
	hub   string
	nodes []plannedNode
	links []plannedLink
	index map[string]int // node name -> index in nodes
	// static is whether nodes get static neighbour entries for their
	// peers; Create decides it (neighbors.go).
	static bool
	// noIPv6 is whether the nodes' namespaces have IPv6 off: a lab with
	// static entries and no IPv6 address anywhere (neighbors.go).
	noIPv6 bool
}

type plannedNode struct {
	spec   NodeSpec
	ns     string           // namespace name
	hubIf  string           // veth end in the hub namespace
	mac    net.HardwareAddr // of eth0
	peers  []int            // indexes of spec.Peers, without duplicates
	ifaces map[string]bool
}

type plannedLink struct {
	spec         LinkSpec
	a, b         int // node indexes
	aName, bName string
}

// validate checks spec and derives every name the lab will use. Each error
// wraps ErrInvalidSpec and names the field at fault.
func (spec LabSpec) validate() (*plan, error) {
	if err := ValidateLabName(spec.Name); err != nil {
		return nil, err
	}
	p := &plan{name: spec.Name, hub: HubNamespace(spec.Name), index: make(map[string]int, len(spec.Nodes))}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: lab %s: %s", ErrInvalidSpec, spec.Name, fmt.Sprintf(format, args...))
	}
	nsSeen := map[string]string{}
	hubIfSeen := map[string]string{}
	for i, n := range spec.Nodes {
		if why := validName(n.Name, maxNodeName); why != "" {
			return nil, bad("nodes[%d]: name %q %s", i, n.Name, why)
		}
		if j, dup := p.index[n.Name]; dup {
			return nil, bad("nodes[%d]: name %q is also nodes[%d]", i, n.Name, j)
		}
		pn := plannedNode{spec: n, ns: NodeNamespace(spec.Name, n.Name), hubIf: hubIfName(spec.Name, n.Name),
			mac: nodeMAC(i), ifaces: map[string]bool{"lo": true, NodeIfName: true}}
		if other, dup := nsSeen[pn.ns]; dup {
			return nil, bad("nodes[%d]: namespace name %s of %q collides with node %q", i, pn.ns, n.Name, other)
		}
		if other, dup := hubIfSeen[pn.hubIf]; dup {
			return nil, bad("nodes[%d]: hub interface %s of %q collides with node %q; rename one", i, pn.hubIf, n.Name, other)
		}
		nsSeen[pn.ns], hubIfSeen[pn.hubIf] = n.Name, n.Name
		p.index[n.Name] = i
		p.nodes = append(p.nodes, pn)
	}
	if err := p.planPeers(bad); err != nil {
		return nil, err
	}
	if !spec.Neighbors.valid() {
		return nil, bad("neighbors: unknown mode %d", spec.Neighbors)
	}
	if err := p.planLinks(spec.Links, bad); err != nil {
		return nil, err
	}
	if err := p.checkAddresses(bad); err != nil {
		return nil, err
	}
	return p, p.checkRoutes(bad)
}

// planPeers resolves every node's Peers to node indexes.
func (p *plan) planPeers(bad func(string, ...any) error) error {
	for i := range p.nodes {
		n := &p.nodes[i]
		seen := map[int]bool{}
		for j, peer := range n.spec.Peers {
			k, ok := p.index[peer]
			switch {
			case !ok:
				return bad("nodes[%d].peers[%d]: no node %q", i, j, peer)
			case k == i:
				return bad("nodes[%d].peers[%d]: node %q cannot be its own peer", i, j, peer)
			case seen[k]:
				continue
			}
			seen[k] = true
			n.peers = append(n.peers, k)
		}
	}
	return nil
}

func (p *plan) planLinks(links []LinkSpec, bad func(string, ...any) error) error {
	pairs := map[[2]int]int{} // ordered (node, peer) -> links seen so far
	for i, l := range links {
		a, okA := p.index[l.A]
		b, okB := p.index[l.B]
		switch {
		case !okA:
			return bad("links[%d]: a: no node %q", i, l.A)
		case !okB:
			return bad("links[%d]: b: no node %q", i, l.B)
		case a == b:
			return bad("links[%d]: both ends are node %q", i, l.A)
		}
		pl := plannedLink{spec: l, a: a, b: b, aName: l.AIfName, bName: l.BIfName}
		if pl.aName == "" {
			pl.aName = linkIfName(l.B, pairs[[2]int{a, b}])
		}
		if pl.bName == "" {
			pl.bName = linkIfName(l.A, pairs[[2]int{b, a}])
		}
		pairs[[2]int{a, b}]++
		pairs[[2]int{b, a}]++
		for _, end := range []struct {
			field, name string
			node        int
		}{{"a_ifname", pl.aName, a}, {"b_ifname", pl.bName, b}} {
			if why := validIfName(end.name); why != "" {
				return bad("links[%d]: %s: %q %s", i, end.field, end.name, why)
			}
			if p.nodes[end.node].ifaces[end.name] {
				return bad("links[%d]: %s: node %q already has an interface %s", i, end.field, p.nodes[end.node].spec.Name, end.name)
			}
			p.nodes[end.node].ifaces[end.name] = true
		}
		p.links = append(p.links, pl)
	}
	return nil
}

// checkAddresses refuses malformed addresses and any address used twice in
// the lab, which the kernel would accept in different namespaces but which
// is never what a topology means.
func (p *plan) checkAddresses(bad func(string, ...any) error) error {
	seen := map[netip.Addr]string{}
	check := func(field string, pfx netip.Prefix) error {
		a := pfx.Addr()
		switch {
		case !pfx.IsValid():
			return bad("%s: %v is not a valid prefix", field, pfx)
		case a.Is4In6():
			return bad("%s: %v is IPv4-mapped: write it as IPv4", field, pfx)
		case a.Zone() != "":
			return bad("%s: %v has a zone", field, pfx)
		case a.IsUnspecified() || a.IsMulticast():
			return bad("%s: %v cannot be an interface address", field, pfx)
		}
		if other, dup := seen[a]; dup {
			return bad("%s: %v is also %s", field, pfx, other)
		}
		seen[a] = field
		return nil
	}
	for i, n := range p.nodes {
		for j, a := range n.spec.Addresses {
			if err := check(fmt.Sprintf("nodes[%d].addresses[%d]", i, j), a); err != nil {
				return err
			}
		}
		for j, a := range n.spec.Loopbacks {
			if err := check(fmt.Sprintf("nodes[%d].loopbacks[%d]", i, j), a); err != nil {
				return err
			}
		}
	}
	for i, l := range p.links {
		if l.spec.AAddr != (netip.Prefix{}) {
			if err := check(fmt.Sprintf("links[%d].a_addr", i), l.spec.AAddr); err != nil {
				return err
			}
		}
		if l.spec.BAddr != (netip.Prefix{}) {
			if err := check(fmt.Sprintf("links[%d].b_addr", i), l.spec.BAddr); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkRoutes refuses routes the kernel could not even parse. Whether the
// gateway is reachable is left to the kernel, which knows.
func (p *plan) checkRoutes(bad func(string, ...any) error) error {
	for i, n := range p.nodes {
		for j, r := range n.spec.Routes {
			field := fmt.Sprintf("nodes[%d].routes[%d]", i, j)
			switch {
			case !r.Dst.IsValid():
				return bad("%s: dst %v is not a valid prefix", field, r.Dst)
			case !r.Via.IsValid() && r.Dev == "":
				return bad("%s: needs a gateway (via) or a device (dev)", field)
			case r.Via.IsValid() && r.Via.Is4() != r.Dst.Addr().Is4():
				return bad("%s: gateway %v and dst %v are of different families", field, r.Via, r.Dst)
			case r.Src.IsValid() && r.Src.Is4() != r.Dst.Addr().Is4():
				return bad("%s: src %v and dst %v are of different families", field, r.Src, r.Dst)
			case r.Dev != "" && !n.ifaces[r.Dev]:
				return bad("%s: node %q has no interface %q", field, n.spec.Name, r.Dev)
			}
		}
	}
	return nil
}
