// Package topology loads, validates and describes peerlab lab topologies.
//
// A topology is a YAML file (see docs/topology.md) naming nodes, the BGP
// peerings between them, the prefixes they announce, the expectations a
// run must meet, a schedule of faults and extra links between nodes. Load decodes the file strictly and converts it into the
// validated types below; every later stage (the lab harness, the CLI, the gRPC
// API) works only on these types, never on raw YAML.
package topology

import (
	"net/netip"
	"time"
)

// Node kinds known to the loader. The lab harness decides which kinds it can
// actually run; the loader only checks the name is one of these.
const (
	KindGoBGP = "gobgp"
	// KindInjector is a send-mostly speaker for bulk tables
	// (speaker/inject): no RIB, tables packed once into full UPDATEs.
	KindInjector = "injector"
	KindBIRD     = "bird"
	KindBIRD2    = "bird2"
)

// Role is what a node does in the BGP topology besides plain peering.
type Role string

// Roles a node may take.
const (
	RoleNone           Role = ""
	RoleRouteReflector Role = "route-reflector"
)

// Cluster roles a node may take besides its BGP role (`roles:`): the
// Kubernetes pieces played around it (docs/kubespray.md).
const (
	// RoleAPIServer serves a Kubernetes API server stand-in on the
	// node's address, port 6443.
	RoleAPIServer Role = "apiserver"
	// RoleCalicoNode makes a BIRD node learn its BGP peers from the API
	// server, as calico-node's confd does, instead of from the topology.
	RoleCalicoNode Role = "calico-node"
	// RoleKubesprayWorker runs kubespray's nginx-proxy on the node: the
	// node reaches the API server through 127.0.0.1:6443.
	RoleKubesprayWorker Role = "kubespray-worker"
)

// ClusterRoles lists the roles `roles:` accepts, in documentation order.
func ClusterRoles() []Role {
	return []Role{RoleAPIServer, RoleCalicoNode, RoleKubesprayWorker}
}

// SessionKind tells which peering statement produced a session.
type SessionKind string

// Session kinds, one per peering statement form.
const (
	SessionMesh           SessionKind = "mesh"
	SessionRouteReflector SessionKind = "route-reflector"
	SessionBetween        SessionKind = "between"
)

// ExpectKind is the kind of condition an expectation checks.
type ExpectKind string

// Expectation kinds.
const (
	ExpectEstablished    ExpectKind = "established"
	ExpectNotEstablished ExpectKind = "not-established"
	ExpectRoute          ExpectKind = "route"
	ExpectNoRoute        ExpectKind = "no-route"
	// ExpectReadiness checks calico-node's BIRD readiness on a node.
	ExpectReadiness ExpectKind = "readiness"
	// ExpectState checks the BGP state one end of a session shows.
	ExpectState ExpectKind = "state"
	// ExpectDiagnosis checks the top cause a live diagnosis names.
	ExpectDiagnosis ExpectKind = "diagnosis"
)

// Negative reports whether k checks that something is never seen during
// its window (not-established, no-route) rather than waiting for it.
func (k ExpectKind) Negative() bool {
	return k == ExpectNotEstablished || k == ExpectNoRoute
}

// BGPStates lists the session states `state:` expectations accept in
// `is:`, as the lab reports them: the BGP FSM states, and BIRD's Passive
// (a passive session waiting for its peer), Down and Close.
func BGPStates() []string {
	return []string{"Idle", "Connect", "Active", "OpenSent", "OpenConfirm", "Established", "Passive", "Down", "Close"}
}

// Confidence levels a diagnosis expectation may ask for, weakest first.
func Confidences() []string { return []string{"low", "medium", "high"} }

// DiagnosisCauses lists the causes a diagnosis expectation may name: the
// slugs of the diagnosis catalogue (diagnose.Catalogue, docs/diagnosis.md),
// which this package cannot import (diagnose imports the lab). A test in
// lab/livediag keeps the two lists equal.
func DiagnosisCauses() []string {
	return []string{
		"apiserver-proxy-down", "apiserver-proxy-bad-upstream", "apiserver-unreachable",
		"vxlan-only-bird-check", "wrong-ip-autodetect", "source-ip-missing", "stale-node",
		"tcp179-dropped", "tcp179-rejected", "no-route-to-peer", "peer-bird-down",
		"peer-bird-unconfigured", "port179-in-use", "as-mismatch", "router-id-conflict",
		"md5-mismatch", "md5-unsupported", "snat-node-traffic", "hold-timer-expired",
		"unacceptable-hold-time", "bad-timers", "bgppeer-as-mismatch", "mesh-disabled-no-peers",
		"peer-selector-matches-nothing", "listen-port-mismatch", "rr-cluster-misplaced", "unknown",
	}
}

// Topology is a validated lab description.
type Topology struct {
	// Name is the lab name: [a-z0-9-], at most 32 characters (see internal/labname).
	Name string
	// Source is the file the topology was read from ("" when parsed from text).
	Source string
	// Nodes in name order.
	Nodes []*Node
	// Sessions expanded from the peerings, one per unordered node pair, in
	// file order. A pair named twice is an error.
	Sessions []*Session
	// Expectations in file order.
	Expectations []*Expectation
	// Faults is the fault schedule, in file order.
	Faults []*Fault
	// Links are explicit point-to-point links between two nodes (namespace
	// mode), besides the lab bridge every node is on.
	Links []*Link
	// Duration is how long a run lasts at least, from lab start
	// (`duration:`); 0 when not set.
	Duration time.Duration
	// Calico is the `calico:` block (Calico datastore resources), nil
	// when the topology has none.
	Calico *Calico
}

// Fault is one scheduled fault: injected At after the lab is up, healed at
// HealAt when that is non-zero.
type Fault struct {
	// Name is one of FaultNames().
	Name string
	// Label is the fault's `name:`, by which expectations' `after:`
	// refer to it; "" when it has none.
	Label string
	// Node is where the fault is injected; Peer, when set, limits it to
	// the traffic or session between Node and Peer.
	Node, Peer string
	At, HealAt time.Duration
	// Params are fault-specific settings (netem: delay, jitter, loss;
	// as-mismatch: asn; router-id-conflict: router-id; md5-*: password;
	// address faults: address), validated and canonical: durations as
	// time.Duration.String, loss as a plain number, addresses and AS
	// numbers as usual. Defaults that follow from the topology are filled
	// in (docs/topology.md, "faults"). nil when there are none.
	Params map[string]string
	// Line is the line of the fault in the source file.
	Line int
}

// Link is a point-to-point link between two nodes with an address at each end.
type Link struct {
	// A and B are the node names, in the order of `between`.
	A, B string
	// AAddr and BAddr are the interface addresses of A's and B's end, in
	// one subnet (10.1.0.1/30 and 10.1.0.2/30).
	AAddr, BAddr netip.Prefix
	// Line is the line of the link in the source file.
	Line int
}

// FaultNames returns the catalogue of fault names a topology may schedule
// (docs/faults.md describes each). The lab harness implements every one.
func FaultNames() []string {
	return []string{
		"tcp179-drop", "tcp179-reject", "icmp-unreachable", "link-down", "netem",
		"as-mismatch", "router-id-conflict", "md5-mismatch", "md5-one-sided",
		"hold-timer-expiry", "bird-down", "bird-unconfigured", "port179-in-use",
		"source-ip-missing", "wrong-ip-autodetect", "snat-node-traffic",
		"apiserver-proxy-down", "apiserver-proxy-bad-upstream", "apiserver-down",
	}
}

// Timers are the BGP timers of a node or a session.
type Timers struct {
	Hold         time.Duration
	Keepalive    time.Duration
	ConnectRetry time.Duration
}

// Node is one BGP speaker of the lab.
type Node struct {
	Name string
	// Kind is one of the Kind* constants; default from `defaults.kind`, else gobgp.
	Kind string
	// ASN is the node's own AS number.
	ASN uint32
	// Address is the node's address inside the lab (the peering address).
	Address netip.Addr
	// RouterID defaults to Address when that is IPv4.
	RouterID netip.Addr
	Role     Role
	// Roles are the node's cluster roles (`roles:`), in file order.
	Roles []Role
	// ClusterID is set for route reflectors; defaults to RouterID.
	ClusterID netip.Addr
	Timers    Timers
	// Prefixes the node announces once its sessions are up (announced at start).
	Prefixes []Prefix
	// Routes are bulk route sources (`routes:`), announced at start
	// together with Prefixes.
	Routes []RouteSource
	// Line is the line of the node's key in the source file, for reports.
	Line int
}

// Prefix is one route a node announces.
type Prefix struct {
	Prefix netip.Prefix
	// NextHop is optional; zero means "the node's own address".
	NextHop netip.Addr
	// Communities in "ASN:VALUE" form, already validated.
	Communities []string
	// Prepend is how many extra times the node's AS is put in the AS path.
	Prepend int
}

// RouteSource is one bulk table a node injects: either Generate prefixes
// of length Length carved in order from From, or the routes of the MRT
// TABLE_DUMP_V2 file MRT. docs/injection.md describes both.
type RouteSource struct {
	// Generate is the number of generated prefixes (0 for an MRT source).
	Generate int
	// From is the range generated prefixes are carved from.
	From netip.Prefix
	// Length is the generated prefix length (default 24 for IPv4, 64 for
	// IPv6).
	Length int
	// Variety is how many distinct attribute sets (AS path, community,
	// MED) generated routes cycle through; 0 or 1 means minimal
	// attributes.
	Variety int
	// Order is the order generated prefixes are sent in: "address" (the
	// default, also "") or "bird-fib" (the order a BIRD 1.6 upstream
	// sends, IPv4 only; see lab/routes.OrderBIRDFIB).
	Order string
	// MRT is the dump's path as written (relative paths are relative to
	// the directory peerlab runs in).
	MRT string
	// Limit caps the routes read from MRT (0: all).
	Limit int
	// NextHop overrides every route's next hop; zero means the node's own
	// address (an MRT dump's next hops are not reachable in a lab).
	NextHop netip.Addr
	// Line is the line of the source in the topology file.
	Line int
}

// Session is one BGP session between two nodes, both ends configured.
type Session struct {
	Kind SessionKind
	// A and B are node names; for route-reflector sessions A is the reflector.
	A, B string
	// Reflector names the route-reflector end ("" when none).
	Reflector string
	// Password is the TCP MD5 password, "" for none.
	Password string
	// Passive names the end that never connects ("" when both connect).
	Passive string
	// Multihop is the eBGP multihop TTL (0 means default behaviour).
	Multihop uint8
	// TTLSecurity is the GTSM minimum TTL (0 means off).
	TTLSecurity uint8
	// Timers overrides the nodes' timers for this session when non-nil.
	Timers *Timers
	// PeerASN maps a node name to the AS number the *other* end configures
	// for it. Absent entries mean the node's real AS. A value that differs
	// from the node's AS reproduces an AS mismatch.
	PeerASN map[string]uint32
	// Families are address families: "ipv4-unicast", "ipv6-unicast".
	// Default: ipv4-unicast, plus ipv6-unicast when either end announces IPv6.
	Families []string
	// Line is the line of the peering statement in the source file.
	Line int
}

// Other returns the name of the end of s that is not name.
func (s *Session) Other(name string) string {
	if s.A == name {
		return s.B
	}
	return s.A
}

// Has reports whether name is one end of s.
func (s *Session) Has(name string) bool { return s.A == name || s.B == name }

// Expectation is a condition a lab run must meet within a time limit.
type Expectation struct {
	Kind ExpectKind
	// Nodes for (not-)established: the two ends of one session. Empty with
	// All set means every session of the lab.
	Nodes []string
	// All is set by `established: all`.
	All bool
	// Route and At for route / no-route: the prefix and the node whose
	// best paths must (not) hold it.
	Route netip.Prefix
	At    string
	// Within is how long the condition may take to hold (default 30s),
	// counted from the start of the window (After).
	Within time.Duration
	// After is where the window starts: lab start by default.
	After Anchor
	// For is how long the condition must then hold without a break (0:
	// seeing it once is enough). Never set on negative kinds.
	For time.Duration
	// Node is the node a readiness or diagnosis expectation runs on.
	Node string
	// Ready and Message for readiness: the verdict wanted, and a
	// substring of calico-node's message ("" for any).
	Ready   bool
	Message string
	// States for state: the states At's end of the session (Nodes) may
	// show, canonical spelling (BGPStates); Error a substring of its last
	// error ("" for any).
	States []string
	Error  string
	// Cause, CauseNode, CausePeer and Confidence for diagnosis: the top
	// finding's cause, the node it names and the peer (node names, "" for
	// any) and its lowest acceptable confidence ("" for any).
	Cause      string
	CauseNode  string
	CausePeer  string
	Confidence string
	// Line is the line of the expectation in the source file.
	Line int
}

// Anchor is where an expectation's window starts: Delay after lab start,
// or the injection (Heal: the heal) of the fault labelled Fault.
type Anchor struct {
	Delay time.Duration
	Fault string
	Heal  bool
}

// String renders the anchor as written in a topology: "5s", "proxy-down",
// "proxy-down.heal"; "" for lab start.
func (a Anchor) String() string {
	switch {
	case a.Fault != "" && a.Heal:
		return a.Fault + ".heal"
	case a.Fault != "":
		return a.Fault
	case a.Delay > 0:
		return a.Delay.String()
	}
	return ""
}

// HasRole reports whether r is one of the node's cluster roles.
func (n *Node) HasRole(r Role) bool {
	for _, x := range n.Roles {
		if x == r {
			return true
		}
	}
	return false
}

// Node returns the node called name, or nil.
func (t *Topology) Node(name string) *Node {
	for _, n := range t.Nodes {
		if n.Name == name {
			return n
		}
	}
	return nil
}
