package diagnose

import (
	"net/netip"
	"strings"

	"github.com/peerlab/peerlab/internal/bird"
)

// Line is one line of evidence and where it came from.
type Line struct {
	// Source is the file or probe.
	Source string
	// Text is the line, verbatim (trimmed of surrounding space).
	Text string
}

// String renders the line as "source: text".
func (l Line) String() string {
	if l.Source == "" {
		return l.Text
	}
	return l.Source + ": " + l.Text
}

// Observations is what the evidence says about one node (or, for the
// cluster-wide parts, about the cluster). Recognizers append to it; every
// field is optional.
type Observations struct {
	// Protocols are `birdc show protocols [all]` rows, with details when
	// the output had them.
	Protocols []ProtocolObs
	// BirdConfigs are parsed bird.cfg files.
	BirdConfigs []BirdConfig
	// Status are `calicoctl node status` outputs.
	Status []NodeStatus
	// Readiness are calico-node readiness failures.
	Readiness []Readiness
	// APIErrors are calico-node log lines about failing to reach the API
	// server.
	APIErrors []APIError
	// DatastoreErrors are calico-node log lines about failing to list or
	// watch the datastore ("Failed to list *v3.BGPPeer").
	DatastoreErrors []Line
	// ConfdErrors are confd's ERROR lines in the calico-node log: confd
	// renders bird.cfg, so BIRD may never get a configuration.
	ConfdErrors []Line
	// BirdLog are BIRD log lines the rules care about.
	BirdLog []BirdLogLine
	// Kernel are kernel messages about TCP MD5.
	Kernel []KernelMD5
	// Nginx are parsed kubespray nginx-proxy configs.
	Nginx []NginxConf
	// Listeners are `ss -ltnp` rows; ListenersSeen is true once any ss
	// output was read, so an empty list means "nothing listens".
	Listeners     []Listener
	ListenersSeen bool
	// ListenersSource is the file or probe of the first ss output read.
	ListenersSource string
	// Interfaces are `ip -4 addr` entries; AddrsSeen is true once any was read.
	Interfaces []Interface
	AddrsSeen  bool
	// Routes are `ip route` entries; RoutesSeen is true once any was read.
	Routes     []Route
	RoutesSeen bool
	// KubeNodes are `kubectl get nodes -o wide` rows (cluster-wide).
	KubeNodes []KubeNode
	// Manifests are Calico install settings: backend and probes
	// (cluster-wide).
	Manifests []CalicoManifest
	// Router is the lab kind ("gobgp", "injector") when the node is a BGP
	// router the lab runs rather than a Calico node, or the speaker whose
	// session log the evidence holds ("openbgpd"): it has no BIRD, no
	// bird.cfg and no calico-node, and whatever listens on its port 179 is
	// its own speaker. RouterSessions are its sessions as it reports them.
	Router         string
	RouterSessions []RouterSessionObs
	// NodeAddrs are the addresses calico-node's startup chose for the node
	// (autodetected, from the environment, or by an old calicoctl).
	NodeAddrs []NodeAddr
	// AddrConflicts are "Calico node 'X' is already using the IPv4
	// address A" warnings.
	AddrConflicts []AddrConflict
	// RouterEvents are NOTIFICATION and TCP MD5 messages in the logs of
	// BGP speakers that are not Calico nodes (ToR switches, FRR, GoBGP).
	RouterEvents []RouterEvent
	// Pods are `kubectl get pods -o wide` rows (cluster-wide).
	Pods []KubePod
	// Hostnames are the names the evidence gives the host it was taken
	// on: the shell prompt of a command run there ("root@node1:~#
	// calicoctl node status"), a Kubernetes Node's Hostname address.
	Hostnames []HostnameObs
	// BGPConfigurations, BGPPeers and CalicoNodes are Calico's BGP
	// resources as the datastore holds them (cluster-wide).
	BGPConfigurations []CalicoBGPConfiguration
	BGPPeers          []CalicoBGPPeer
	CalicoNodes       []CalicoNodeRes
}

// HostnameObs is a host name the evidence gives and the line saying it.
type HostnameObs struct {
	Name string
	Line Line
}

// RouterSessionObs is one session of a router node and its evidence line.
type RouterSessionObs struct {
	RouterSession
	Line Line
}

// merge appends everything of o to obs.
func (obs *Observations) merge(o Observations) {
	obs.Protocols = append(obs.Protocols, o.Protocols...)
	obs.BirdConfigs = append(obs.BirdConfigs, o.BirdConfigs...)
	obs.Status = append(obs.Status, o.Status...)
	obs.Readiness = append(obs.Readiness, o.Readiness...)
	obs.APIErrors = append(obs.APIErrors, o.APIErrors...)
	obs.DatastoreErrors = append(obs.DatastoreErrors, o.DatastoreErrors...)
	obs.ConfdErrors = append(obs.ConfdErrors, o.ConfdErrors...)
	obs.BirdLog = append(obs.BirdLog, o.BirdLog...)
	obs.Kernel = append(obs.Kernel, o.Kernel...)
	obs.Nginx = append(obs.Nginx, o.Nginx...)
	obs.Listeners = append(obs.Listeners, o.Listeners...)
	obs.ListenersSeen = obs.ListenersSeen || o.ListenersSeen
	if obs.ListenersSource == "" {
		obs.ListenersSource = o.ListenersSource
	}
	obs.Interfaces = append(obs.Interfaces, o.Interfaces...)
	obs.AddrsSeen = obs.AddrsSeen || o.AddrsSeen
	obs.Routes = append(obs.Routes, o.Routes...)
	obs.RoutesSeen = obs.RoutesSeen || o.RoutesSeen
	obs.KubeNodes = append(obs.KubeNodes, o.KubeNodes...)
	obs.Manifests = append(obs.Manifests, o.Manifests...)
	if o.Router != "" {
		obs.Router = o.Router
	}
	obs.RouterSessions = append(obs.RouterSessions, o.RouterSessions...)
	obs.NodeAddrs = append(obs.NodeAddrs, o.NodeAddrs...)
	obs.AddrConflicts = append(obs.AddrConflicts, o.AddrConflicts...)
	obs.RouterEvents = append(obs.RouterEvents, o.RouterEvents...)
	obs.Pods = append(obs.Pods, o.Pods...)
	obs.Hostnames = append(obs.Hostnames, o.Hostnames...)
	obs.BGPConfigurations = append(obs.BGPConfigurations, o.BGPConfigurations...)
	obs.BGPPeers = append(obs.BGPPeers, o.BGPPeers...)
	obs.CalicoNodes = append(obs.CalicoNodes, o.CalicoNodes...)
}

// ProtocolObs is one BIRD protocol as `show protocols [all]` printed it.
type ProtocolObs struct {
	bird.ProtocolDetail
	// Detailed is true when the output was `show protocols all`.
	Detailed bool
	// Line is the protocol's row; LastErrorLine its "Last error:" line.
	Line, LastErrorLine Line
}

// BirdConfig is a Calico-rendered bird.cfg.
type BirdConfig struct {
	// Source is the file.
	Source string
	// RouterID is the "router id".
	RouterID string
	// ListenAddress is "listen bgp address" (BIRD 1.6), if any.
	ListenAddress string
	// LocalAS is the template's or protocol's "local as".
	LocalAS uint32
	// HoldTime and KeepaliveTime are the bgp template's "hold time" and
	// "keepalive time" in seconds (-1 when not set: BIRD's defaults, 240
	// and a third of the hold time, apply); HoldLine and KeepaliveLine
	// are their lines.
	HoldTime, KeepaliveTime int
	HoldLine, KeepaliveLine Line
	// Peers are the BGP protocols.
	Peers []ConfigPeer
	// Lines are the lines the rules quote.
	Lines []Line
}

// ConfigPeer is one "protocol bgp" block of bird.cfg.
type ConfigPeer struct {
	// Name is the protocol name, e.g. "Mesh_10_0_0_2".
	Name string
	// PeerNode is the node name of Calico's "# For peer NAME" comment, if any.
	PeerNode string
	// Neighbor, NeighborAS and Port are from "neighbor A [port P] as N".
	Neighbor   string
	NeighborAS uint32
	Port       int
	// Source is "source address" (BIRD 1.6) or "local A" (BIRD 2).
	Source string
	// LocalAS is "local [A] as N" inside the protocol, else the template's.
	LocalAS uint32
	// Passive is "passive on".
	Passive bool
	// Password is the MD5 password; HasPassword is true when one is set.
	Password    string
	HasPassword bool
	// TTLSecurity is "ttl security on".
	TTLSecurity bool
	// HoldTime and KeepaliveTime are the protocol's "hold time" and
	// "keepalive time" in seconds, else the template's (-1: not set);
	// HoldLine and KeepaliveLine are the lines that set them.
	HoldTime, KeepaliveTime int
	HoldLine, KeepaliveLine Line
	// Line is the "protocol bgp" line; NeighborLine and SourceLine the others.
	Line, NeighborLine, SourceLine Line
}

// NodeStatus is one `calicoctl node status` output.
type NodeStatus struct {
	// CalicoRunning is "Calico process is running."; CalicoNotRunning its opposite.
	CalicoRunning, CalicoNotRunning bool
	// BirdDown is true when it said BIRD is not running or its socket is missing.
	BirdDown bool
	// Peers are the IPv4 and IPv6 BGP status rows.
	Peers []StatusPeer
	// Lines are the lines read.
	Lines []Line
}

// StatusPeer is one row of calicoctl's BGP status table.
type StatusPeer struct {
	Address, Type, State, Since, Info string
	Line                              Line
}

// Readiness is one calico-node readiness failure.
type Readiness struct {
	// NotEstablished are the peers of "BGP not established with A,B".
	NotEstablished []string
	// BirdSocketMissing is "Error querying BIRD: unable to connect to BIRDv4 socket".
	BirdSocketMissing bool
	// NoPeers is "Number of node(s) with BGP peering established = 0"
	// without a list of peers.
	NoPeers bool
	// Line is the message.
	Line Line
}

// APIError is a calico-node log line about an API server connection.
type APIError struct {
	// Addr is the host:port dialled, e.g. "127.0.0.1:6443"; may be empty.
	Addr string
	// Reason is "refused", "timeout", "no-route", "reset", "eof", "tls" or "other".
	Reason string
	// Dial is true when the line says the connect itself failed ("dial
	// tcp A: ..."); Accepted when it says the connection was made and
	// the answer failed ("awaiting headers", EOF, reset, TLS handshake).
	Dial, Accepted bool
	Line           Line
}

// Local reports whether the API server address is on the node itself
// (a local proxy such as kubespray's nginx-proxy).
func (e APIError) Local() bool {
	host := hostOf(e.Addr)
	return host == "localhost" || isLoopback(host)
}

// BirdLogLine is a BIRD log line, classified.
type BirdLogLine struct {
	// Protocol is the protocol the line is about, e.g. "Mesh_10_0_0_2".
	Protocol string
	// Message is the text after "PROTOCOL: ", e.g. "Error: Bad peer AS".
	Message string
	// UnknownAddress is set for "Unexpected connect from unknown address X".
	UnknownAddress string
	// Slow is set for BIRD's warnings that it ran late ("I/O loop cycle
	// took 5720 ms"): keepalives may have gone out too late.
	Slow bool
	// NoConfig is set when BIRD cannot read its configuration ("Unable
	// to open configuration file /etc/calico/confd/config/bird.cfg: No
	// such file or directory", a syntax error): BIRD does not start.
	NoConfig bool
	Line     Line
}

// KernelMD5 is a kernel message about a TCP MD5 signature.
type KernelMD5 struct {
	// Kind is "mismatch", "failed", "not-expected" or "missing".
	Kind string
	// Src and Dst are the addresses in "(SRC, port)->(DST, port)", if printed.
	Src, Dst string
	Line     Line
}

// NginxConf is a kubespray nginx-proxy config.
type NginxConf struct {
	// Listen are the stream server's listen addresses, e.g. "127.0.0.1:6443".
	Listen []string
	// Upstreams are the stream upstream servers, e.g. "10.0.0.10:6443".
	Upstreams []string
	// HealthzPort is the http server's listen port serving /healthz, if any.
	HealthzPort string
	Lines       []Line
}

// Listener is one listening TCP socket from `ss -ltnp`.
type Listener struct {
	// Addr is the local address ("0.0.0.0", "*", "127.0.0.1", "[::]").
	Addr string
	// Port is the local port.
	Port int
	// Process is the process name in users:(("name",...)), if shown.
	Process string
	Line    Line
}

// Interface is one interface of `ip -4 addr`.
type Interface struct {
	Name     string
	Prefixes []netip.Prefix
	// Down: the link is not up (no UP flag, NO-CARRIER, state DOWN or
	// LOWERLAYERDOWN), so no traffic leaves through it.
	Down  bool
	Lines []Line
}

// Route is one `ip route` entry.
type Route struct {
	// Prefix is the destination; 0.0.0.0/0 for "default".
	Prefix netip.Prefix
	// Type is "unicast", "blackhole", "unreachable" or "prohibit".
	Type string
	Line Line
}

// KubeNode is a `kubectl get nodes -o wide` row.
type KubeNode struct {
	Name, Status, Roles, InternalIP, ExternalIP string
	Line                                        Line
}

// CalicoManifest is what a calico-node DaemonSet or calico-config
// ConfigMap says about the networking backend and the probes.
type CalicoManifest struct {
	// Backend is calico_backend / CALICO_NETWORKING_BACKEND ("bird", "vxlan", "none").
	Backend string
	// BirdReadyProbe is true when a probe runs "-bird-ready" (or -bird-live).
	BirdReadyProbe bool
	Lines          []Line
}

// NodeAddr is an address calico-node's startup picked for its node.
type NodeAddr struct {
	// Addr is the address, e.g. "172.17.0.1".
	Addr string
	// Prefix is the address with its length when the log printed one
	// ("172.17.0.1/16"); invalid otherwise.
	Prefix netip.Prefix
	// Interface is the interface it was found on, if the log said.
	Interface string
	// How is "first-found", "interface", "can-reach", "skip-interface",
	// "node-resource" (a Calico Node resource's spec.bgp.ipv4Address),
	// "environment" or "calicoctl".
	How string
	// NotOnHost is set by "Unable to confirm IPv4 address A is assigned
	// to this host".
	NotOnHost bool
	Line      Line
}

// AddrConflict is calico-node's startup refusing an address another
// Calico node already uses.
type AddrConflict struct {
	// Other is the node already using Addr.
	Other, Addr string
	Line        Line
}

// RouterEvent is a BGP NOTIFICATION (or a TCP MD5 complaint) logged by a
// speaker that is not a Calico node.
type RouterEvent struct {
	// Neighbor is the address the router names as its neighbor.
	Neighbor string
	// Code and Subcode are the NOTIFICATION's; HasCode is false when the
	// line only gave a text the tables could not map.
	Code, Subcode uint8
	HasCode       bool
	// Sent is true when the router sent it, false when it received it.
	Sent bool
	// MD5 is "missing" or "mismatch" for TCP MD5 complaints, else "".
	MD5 string
	// Text is the reason as printed.
	Text string
	Line Line
}

// KubePod is a `kubectl get pods -o wide` row.
type KubePod struct {
	Name, Ready, Status, IP, Node string
	Line                          Line
}

// CalicoNode reports whether the pod is a calico-node pod (its IP is then
// the node's own, since it runs in the host network).
func (p KubePod) CalicoNode() bool {
	return strings.HasPrefix(p.Name, "calico-node-")
}

// CalicoBGPConfiguration is a Calico BGPConfiguration resource: "default"
// holds the cluster's settings, "node.<name>" one node's.
type CalicoBGPConfiguration struct {
	Name string
	// MeshEnabled is spec.nodeToNodeMeshEnabled, nil when not set (the
	// mesh is then on).
	MeshEnabled *bool
	// ASNumber and ListenPort are 0 when not set.
	ASNumber, ListenPort uint32
	// Line is the resource's name line; MeshLine and PortLine its
	// nodeToNodeMeshEnabled and listenPort lines when set.
	Line, MeshLine, PortLine Line
}

// CalicoBGPPeer is a Calico BGPPeer resource.
type CalicoBGPPeer struct {
	Name string
	// Node, when set, limits the peering to that node; NodeSelector to the
	// nodes it selects; neither makes it global.
	Node, NodeSelector string
	// PeerIP (address[:port]) or PeerSelector names the peers.
	PeerIP, PeerSelector string
	// ASNumber is the peer's AS, 0 when not set.
	ASNumber uint32
	// Line is the name line; ASLine and SelectorLine the asNumber and
	// peerSelector lines when set.
	Line, ASLine, SelectorLine Line
}

// CalicoNodeRes is a Calico Node resource (projectcalico.org/v3 Node,
// crd.projectcalico.org/v1 Node).
type CalicoNodeRes struct {
	Name   string
	Labels map[string]string
	// ASNumber is spec.bgp.asNumber, 0 when the node uses the cluster's.
	ASNumber uint32
	// IPv4Address is spec.bgp.ipv4Address ("10.0.0.2/24").
	IPv4Address string
	// ClusterID is spec.bgp.routeReflectorClusterID: set on route
	// reflectors.
	ClusterID string
	// Line is the name line; ClusterIDLine the routeReflectorClusterID line.
	Line, ClusterIDLine Line
}
