package bird

import "time"

// Protocol is one row of `show protocols`.
type Protocol struct {
	// Name is the protocol instance name, e.g. "Mesh_10_0_0_2".
	Name string
	// Proto is the protocol type: "BGP", "Device", "Kernel", "Direct", "Static"...
	Proto string
	// Table is the routing table ("master" in BIRD 1.6, "master4" in BIRD 2);
	// empty when BIRD prints "---" (BIRD 2 protocols with channels).
	Table string
	// State is the protocol state: "up", "down", "start", "stop", "feed" or "flush".
	State string
	// Since is the time of the last state change as BIRD printed it.
	Since string
	// Info is the first word of the info column; for BGP the session state:
	// "Established", "Active", "Connect", "Idle", "Passive", "OpenSent",
	// "OpenConfirm" or "Down".
	Info string
	// InfoDetail is the rest of the info column, e.g. "Socket: Connection
	// refused" or "Received: Bad peer AS" when BIRD shows the last error there.
	InfoDetail string
}

// Established reports whether the protocol is a BGP session in state
// Established.
func (p Protocol) Established() bool { return p.Info == "Established" }

// Timer is a BGP timer as `show protocols all` prints it: "219/240" is 219
// seconds left of 240. A zero Total means BIRD did not print the timer.
type Timer struct {
	// Left is the time remaining until the timer fires.
	Left time.Duration
	// Total is the timer's full (negotiated or configured) value.
	Total time.Duration
}

// RouteCounts is a "Routes:" line: "1 imported, 2 filtered, 1 exported, 1 preferred".
type RouteCounts struct {
	// Imported counts routes accepted from the protocol.
	Imported int
	// Filtered counts routes rejected by the import filter but kept (import keep filtered).
	Filtered int
	// Exported counts routes sent to the protocol.
	Exported int
	// Preferred counts imported routes that are the best in their table.
	Preferred int
}

func (r RouteCounts) add(o RouteCounts) RouteCounts {
	return RouteCounts{
		Imported:  r.Imported + o.Imported,
		Filtered:  r.Filtered + o.Filtered,
		Exported:  r.Exported + o.Exported,
		Preferred: r.Preferred + o.Preferred,
	}
}

// Channel is a BIRD 2 channel block ("Channel ipv4") inside `show protocols all`.
type Channel struct {
	// Name is the channel's address family, e.g. "ipv4".
	Name string
	// State is the channel state, e.g. "UP" or "DOWN".
	State string
	// Table is the routing table the channel is attached to.
	Table string
	// Routes are the channel's route counts.
	Routes RouteCounts
}

// ProtocolDetail is one protocol of `show protocols all`: the summary row and
// the fields the diagnosis engine reasons about. Fields BIRD did not print
// are left at their zero values.
type ProtocolDetail struct {
	Protocol
	// Description is the protocol's "Description:" line.
	Description string
	// BGPState is the "BGP state:" value, e.g. "Established" or "Active".
	BGPState string
	// NeighborAddress is the peer's address as printed.
	NeighborAddress string
	// NeighborPort is the peer's port when BIRD printed one (BIRD 2 with a
	// non-default port), else 0.
	NeighborPort int
	// NeighborAS is the configured peer AS.
	NeighborAS uint32
	// LocalAS is the local AS (BIRD 2 prints it; BIRD 1.6 does not).
	LocalAS uint32
	// NeighborID is the peer's router ID, known once OPEN was received.
	NeighborID string
	// SourceAddress is the local address of the TCP session.
	SourceAddress string
	// Session is the "Session:" flags, e.g. "internal multihop AS4".
	Session string
	// LastError is the last error, e.g. "Socket: Connection refused",
	// "Received: Bad peer AS", "Error: Hold timer expired".
	LastError string
	// HoldTimer and KeepaliveTimer are present on established sessions.
	HoldTimer, KeepaliveTimer Timer
	// ConnectDelay is present while BIRD waits before connecting.
	ConnectDelay Timer
	// ErrorWait is present while BIRD waits after an error.
	ErrorWait Timer
	// Routes are the route counts, summed over all channels in BIRD 2.
	Routes RouteCounts
	// Channels lists BIRD 2's channels; empty for BIRD 1.6.
	Channels []Channel
	// Fields holds every "Key: value" line by key as printed (later lines of
	// the same key win), for fields this struct does not name.
	Fields map[string]string
}
