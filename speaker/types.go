package speaker

import (
	"net/netip"
	"time"

	"go.uber.org/zap"
)

// Config is what a Speaker needs to start.
type Config struct {
	// Name identifies the speaker in logs and events (the lab node name).
	Name string
	// ASN is the speaker's own AS number.
	ASN uint32
	// RouterID is the BGP identifier; it must be an IPv4 address.
	RouterID netip.Addr
	// ListenAddress is the address the speaker binds for incoming sessions.
	ListenAddress netip.Addr
	// ListenPort is the TCP port to listen on (179 when 0). A negative
	// port means the speaker does not listen at all.
	ListenPort int
	// ClusterID is the route-reflector cluster id; only used when some
	// peer is a route-reflector client. Zero means RouterID.
	ClusterID netip.Addr
	// Families the speaker keeps RIBs for; empty means IPv4 unicast only.
	// A peer can only negotiate families listed here.
	Families []Family
	// Logger receives the speaker's logs and GoBGP's (bridged through slog).
	// Nil means no logs.
	Logger *zap.Logger
}

// Family is an address family the speaker negotiates.
type Family string

// Address families.
const (
	IPv4Unicast Family = "ipv4-unicast"
	IPv6Unicast Family = "ipv6-unicast"
)

// Timers are per-session BGP timers. Zero fields take GoBGP's defaults.
type Timers struct {
	Hold         time.Duration
	Keepalive    time.Duration
	ConnectRetry time.Duration
}

// PeerConfig describes one BGP neighbor of a speaker.
type PeerConfig struct {
	// Name is a display name for the remote end (the lab node name).
	Name string
	// Address is the remote address to connect to and accept from.
	Address netip.Addr
	// Port is the remote TCP port (179 when 0).
	Port int
	// LocalAddress is the source address of outgoing connections.
	LocalAddress netip.Addr
	// ASN is the AS number configured for the peer.
	ASN uint32
	// RouteReflectorClient marks the peer as a client of this speaker.
	RouteReflectorClient bool
	// Passive makes the speaker wait for the peer to connect.
	Passive bool
	// Password is the TCP MD5 signature password ("" for none).
	Password string
	// Multihop is the eBGP multihop TTL (0: default, direct neighbors).
	Multihop uint8
	// TTLSecurity is the GTSM minimum TTL (0: off).
	TTLSecurity uint8
	Timers      Timers
	// Families to negotiate; empty means IPv4 unicast only.
	Families []Family
}

// State is a BGP finite-state-machine state.
type State string

// BGP FSM states, with the names RFC 4271 gives them.
const (
	StateUnknown     State = "Unknown"
	StateIdle        State = "Idle"
	StateConnect     State = "Connect"
	StateActive      State = "Active"
	StateOpenSent    State = "OpenSent"
	StateOpenConfirm State = "OpenConfirm"
	StateEstablished State = "Established"
)

// Notification is a BGP NOTIFICATION seen on a session.
type Notification struct {
	// Code 0 means a NOTIFICATION was received whose code GoBGP did not
	// report (one received before Established; see Known).
	Code    uint8
	Subcode uint8
	// Name is the RFC name, e.g. "OPEN Message Error / Bad Peer AS".
	Name string
	// Sent is true when this speaker sent it, false when it received it.
	Sent bool
}

// PeerStatus is the current view of one session.
type PeerStatus struct {
	// Speaker is the local speaker's name; Peer the configured peer name.
	Speaker string
	Peer    string
	Address netip.Addr
	ASN     uint32
	State   State
	// LastError is GoBGP's disconnect reason for the last time the session
	// went down (e.g. "notification-received open/bad peer as"), kept
	// until the session is Established again.
	LastError string
	// Notification is the last NOTIFICATION sent or received, if any.
	Notification *Notification
	// Since is when the session entered State.
	Since time.Time
}

// Event is a session state change.
type Event struct {
	Time    time.Time
	Speaker string
	Peer    string
	Address netip.Addr
	From    State
	To      State
	// Reason is GoBGP's disconnect reason when the session left
	// Established or failed to reach it ("" otherwise).
	Reason       string
	Notification *Notification
}

// Route is a path a speaker announces.
type Route struct {
	Prefix netip.Prefix
	// NextHop defaults to the speaker's listen address (IPv4) or its
	// IPv4-mapped form (IPv6 prefixes).
	NextHop netip.Addr
	// Communities in "ASN:VALUE" form.
	Communities []string
	// Prepend puts the speaker's AS this many extra times in the AS path.
	Prepend int
	// ASPath is appended after the Prepend copies: the AS numbers the
	// route claims to have crossed (a replayed table's paths). GoBGP puts
	// the speaker's own AS in front of it towards eBGP peers.
	ASPath []uint32
	// MED and LocalPref are sent when non-zero.
	MED       uint32
	LocalPref uint32
}

// Table selects a RIB to read.
type Table int

// RIB tables.
const (
	// TableBest is the speaker's best paths (loc-RIB).
	TableBest Table = iota
	// TableAdjIn is what a given peer sent, before policy.
	TableAdjIn
	// TableAdjOut is what the speaker sends a given peer.
	TableAdjOut
)

// Path is one path of a RIB query.
type Path struct {
	Prefix       netip.Prefix
	NextHop      netip.Addr
	ASPath       []uint32
	Communities  []string
	LocalPref    uint32
	MED          uint32
	OriginatorID netip.Addr
	ClusterList  []netip.Addr
	// From is the address of the peer the path was learnt from (zero when local).
	From netip.Addr
	Best bool
}
