package bird

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Version selects the BIRD major version a configuration is rendered for.
type Version int

// BIRD major versions.
const (
	// Bird1 is BIRD 1.6, the version Calico shipped for years (Debian "bird").
	Bird1 Version = 1
	// Bird2 is BIRD 2.x (Debian "bird2").
	Bird2 Version = 2
)

// String returns "bird1" or "bird2", the node kind names topologies use.
func (v Version) String() string {
	switch v {
	case Bird1:
		return "bird1"
	case Bird2:
		return "bird2"
	}
	return "bird?" + strconv.Itoa(int(v))
}

// ParseVersion accepts "bird", "bird1", "1", "1.6" for Bird1 and "bird2",
// "2" for Bird2.
func ParseVersion(s string) (Version, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "bird", "bird1", "bird1.6", "1", "1.6":
		return Bird1, nil
	case "bird2", "2", "2.0":
		return Bird2, nil
	}
	return 0, fmt.Errorf("bird: unknown BIRD version %q (want bird1 or bird2)", s)
}

// PeerKind is where a peering comes from in Calico, which also prefixes the
// BIRD protocol name: Mesh_10_0_0_2, Node_10_0_0_2, Global_10_0_0_2.
type PeerKind string

// Calico's peer kinds.
const (
	// KindMesh is a node-to-node mesh peer.
	KindMesh PeerKind = "Mesh"
	// KindNode is a BGPPeer resource scoped to this node.
	KindNode PeerKind = "Node"
	// KindGlobal is a BGPPeer resource that applies to all nodes.
	KindGlobal PeerKind = "Global"
)

// DefaultPort is the BGP port.
const DefaultPort = 179

// Peer is one BGP neighbour of the node.
type Peer struct {
	// Name is the peer's node name, written as a comment.
	Name string
	// Address is the peer's IPv4 address.
	Address netip.Addr
	// Port is the peer's BGP port; 0 means 179. A non-default port is added
	// to the protocol name as Calico does (Node_10_0_0_2_port_1179).
	Port uint16
	// ASN is the peer's AS number.
	ASN uint32
	// Kind is Mesh, Node or Global.
	Kind PeerKind
	// Passive makes this node wait for the peer to connect. Mesh peers are
	// also passive by Calico's rule, see RenderConfig.
	Passive bool
	// Password is the TCP MD5 password, if any.
	Password string
	// RouteReflectorClient makes this node a route reflector for the peer.
	RouteReflectorClient bool
	// ClusterID is the route reflector cluster ID (IPv4 or number), used
	// with RouteReflectorClient.
	ClusterID string
	// TTLSecurity turns on GTSM (ttl security on) instead of Calico's
	// mesh default "ttl security off".
	TTLSecurity bool
}

// Config is what a Calico node's BIRD configuration is rendered from.
type Config struct {
	// RouterID is the BGP router ID; defaults to NodeIP.
	RouterID netip.Addr
	// ASN is the node's AS number.
	ASN uint32
	// NodeIP is the node's IPv4 address: the BGP source and listen address.
	NodeIP netip.Addr
	// ListenPort is the BGP port this node listens on; 0 means 179.
	ListenPort uint16
	// LogFile, when set, makes BIRD log everything to this file.
	LogFile string
	// Peers are the BGP neighbours.
	Peers []Peer
	// Prefixes are the IPAM blocks this node announces (blackhole static
	// routes, exported to peers like Calico's calico_aggr does).
	Prefixes []netip.Prefix
	// Pools are Calico's IP pools: routes inside them are exported to BGP
	// peers (Calico's calico_export_to_bgp_peers accepts `net ~ pool`), which
	// is what lets a route reflector pass other nodes' blocks on. Empty
	// means the node's own Prefixes only.
	Pools []netip.Prefix
	// HoldTime and KeepaliveTime, in seconds, go into the BGP template when
	// non-zero; Calico leaves BIRD's defaults (240 s and a third of it).
	HoldTime      int
	KeepaliveTime int
	// DeviceScanTime is the device protocol's scan time in seconds; 0 means 2.
	DeviceScanTime int
	// KernelExport lets BIRD write learned routes into the kernel (Calico's
	// calico_kernel_programming filter). Off by default so that a lab never
	// touches host routes: the kernel protocol then exports nothing.
	KernelExport bool
	// StrictBind (BIRD 2 only) binds each BGP listening socket to NodeIP
	// instead of the wildcard address, so several birds can share a port on
	// different loopback addresses.
	StrictBind bool
}

// withDefaults returns c with zero fields set to their defaults.
func (c Config) withDefaults() Config {
	if !c.RouterID.IsValid() {
		c.RouterID = c.NodeIP
	}
	if c.ListenPort == 0 {
		c.ListenPort = DefaultPort
	}
	if c.DeviceScanTime == 0 {
		c.DeviceScanTime = 2
	}
	return c
}

// Validate checks the configuration; errors name the offending field.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	if !c.NodeIP.Is4() {
		errs = append(errs, fmt.Errorf("nodeIP: %v is not an IPv4 address", c.NodeIP))
	}
	if !c.RouterID.Is4() {
		errs = append(errs, fmt.Errorf("routerID: %v is not an IPv4 address", c.RouterID))
	}
	if c.ASN == 0 {
		errs = append(errs, errors.New("asn: must be set"))
	}
	if strings.ContainsAny(c.LogFile, "\"\n") {
		errs = append(errs, fmt.Errorf("logFile: %q contains a quote or newline", c.LogFile))
	}
	if c.DeviceScanTime < 0 {
		errs = append(errs, fmt.Errorf("deviceScanTime: %d is negative", c.DeviceScanTime))
	}
	for i, p := range c.Prefixes {
		if !p.IsValid() || !p.Addr().Is4() {
			errs = append(errs, fmt.Errorf("prefixes[%d]: %v is not an IPv4 prefix", i, p))
		}
	}
	for i, p := range c.Pools {
		if !p.IsValid() || !p.Addr().Is4() {
			errs = append(errs, fmt.Errorf("pools[%d]: %v is not an IPv4 prefix", i, p))
		}
	}
	if c.HoldTime != 0 && (c.HoldTime < 3 || c.HoldTime > 65535) {
		errs = append(errs, fmt.Errorf("holdTime: %d is not 0 or 3..65535 seconds", c.HoldTime))
	}
	if c.KeepaliveTime < 0 || (c.HoldTime != 0 && c.KeepaliveTime >= c.HoldTime) {
		errs = append(errs, fmt.Errorf("keepaliveTime: %d must be below holdTime %d", c.KeepaliveTime, c.HoldTime))
	}
	names := map[string]int{}
	for i, p := range c.Peers {
		field := fmt.Sprintf("peers[%d]", i)
		switch p.Kind {
		case KindMesh, KindNode, KindGlobal:
		default:
			errs = append(errs, fmt.Errorf("%s.kind: %q is not Mesh, Node or Global", field, p.Kind))
		}
		if !p.Address.Is4() {
			errs = append(errs, fmt.Errorf("%s.address: %v is not an IPv4 address", field, p.Address))
		} else if p.Address == c.NodeIP {
			errs = append(errs, fmt.Errorf("%s.address: %v is this node's own address", field, p.Address))
		}
		if p.ASN == 0 {
			errs = append(errs, fmt.Errorf("%s.asn: must be set", field))
		}
		if strings.ContainsAny(p.Password, "\"\\\n") {
			errs = append(errs, fmt.Errorf("%s.password: contains a quote, backslash or newline", field))
		}
		if p.RouteReflectorClient && !validClusterID(p.ClusterID) {
			errs = append(errs, fmt.Errorf("%s.clusterID: %q is not an IPv4 address or number", field, p.ClusterID))
		}
		if strings.ContainsAny(p.Name, "\n") {
			errs = append(errs, fmt.Errorf("%s.name: contains a newline", field))
		}
		if p.Address.Is4() {
			n := protocolName(p)
			if j, dup := names[n]; dup {
				errs = append(errs, fmt.Errorf("%s: protocol %s duplicates peers[%d]", field, n, j))
			}
			names[n] = i
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("bird: invalid config: %w", err)
	}
	return nil
}

func validClusterID(s string) bool {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Is4()
	}
	_, err := strconv.ParseUint(s, 10, 32)
	return err == nil
}

// ProtocolName returns the BIRD protocol name Calico gives peer p:
// Kind_a_b_c_d, plus _port_P for a non-default port.
func ProtocolName(p Peer) string { return protocolName(p) }

func protocolName(p Peer) string {
	n := string(p.Kind) + "_" + strings.ReplaceAll(p.Address.String(), ".", "_")
	if p.Port != 0 && p.Port != DefaultPort {
		n += "_port_" + strconv.Itoa(int(p.Port))
	}
	return n
}

// meshPassive applies Calico's mesh rule from bird.cfg.template: this node is
// passive towards a mesh peer whose address is greater than its own. Calico
// compares the addresses as strings (text/template's gt), so "10.0.0.9" is
// greater than "10.0.0.10"; this keeps that quirk so both ends agree exactly
// as they would in a Calico cluster.
func meshPassive(node, peer netip.Addr) bool {
	return peer.String() > node.String()
}
