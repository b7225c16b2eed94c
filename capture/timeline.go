package capture

import (
	"net/netip"
	"time"

	"github.com/osrg/gobgp/v4/pkg/packet/bgp"
)

// Timeline is the decoded view of a capture: one ordered event list per
// BGP session, where a session is the unordered pair of speaker addresses
// (port-agnostic, so reconnect attempts on fresh ports group together).
type Timeline struct {
	// Sessions are ordered by the time of their first event.
	Sessions []*Session `json:"sessions"`
	// Packets is the number of packets read from the capture.
	Packets int64 `json:"packets"`
	// Messages is the number of BGP messages decoded, malformed ones included.
	Messages int64 `json:"messages"`
	// Truncated is true when the capture ended inside a record (for example
	// a file still being written, or one whose writer was killed).
	Truncated bool `json:"truncated,omitempty"`
	// Elided is the number of UPDATE and KEEPALIVE messages counted but
	// not stored as events (see DecodeOptions.Sample and AllEvents).
	Elided int64 `json:"elided,omitempty"`
	// Untracked counts the sessions past DecodeOptions.MaxSessions and
	// their packets, which were counted but not decoded.
	Untracked Untracked `json:"untracked,omitzero"`
	// Start and End are the timestamps of the first and last packet.
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// Untracked counts what Decode did not decode past its session limit.
type Untracked struct {
	Sessions int64 `json:"sessions"`
	Packets  int64 `json:"packets"`
}

// Session is the timeline of one pair of speakers.
type Session struct {
	// A and B are the two addresses, A < B.
	A netip.Addr `json:"a"`
	B netip.Addr `json:"b"`
	// HoldTime is the negotiated hold time in seconds of the last OPEN
	// exchange (the smaller of both OPENs), or 0 when no OPEN was seen.
	HoldTime uint16 `json:"hold_time"`
	// Counts holds per-type BGP message counts.
	Counts MessageCounts `json:"counts"`
	// Events are ordered by time, ties kept in capture order.
	Events []Event `json:"events"`
}

// MessageCounts counts BGP messages by type.
type MessageCounts struct {
	Open         int64 `json:"open"`
	Update       int64 `json:"update"`
	Notification int64 `json:"notification"`
	Keepalive    int64 `json:"keepalive"`
	RouteRefresh int64 `json:"route_refresh"`
	Malformed    int64 `json:"malformed"`
}

// Total is the number of BGP messages of all types, malformed ones included.
func (c MessageCounts) Total() int64 {
	return c.Open + c.Update + c.Notification + c.Keepalive + c.RouteRefresh + c.Malformed
}

// Event is one thing that happened in a session. Exactly the detail
// pointer that matches Kind is set (none for keepalive, FIN and RST).
// An elided event is not a message: it stands for the messages of a run
// that were counted but not kept, and carries their counts in Elided.
type Event struct {
	Time time.Time      `json:"time"`
	From netip.AddrPort `json:"from"`
	To   netip.AddrPort `json:"to"`
	Kind Kind           `json:"kind"`

	TCP          *TCPInfo          `json:"tcp,omitempty"`
	ICMP         *ICMPInfo         `json:"icmp,omitempty"`
	Open         *OpenInfo         `json:"open,omitempty"`
	Update       *UpdateInfo       `json:"update,omitempty"`
	Notification *NotificationInfo `json:"notification,omitempty"`
	RouteRefresh *RouteRefreshInfo `json:"route_refresh,omitempty"`
	Gap          *GapInfo          `json:"gap,omitempty"`
	Malformed    *MalformedInfo    `json:"malformed,omitempty"`
	Elided       *ElidedInfo       `json:"elided,omitempty"`
}

// TCPInfo describes a TCP control segment.
type TCPInfo struct {
	Seq uint32 `json:"seq"`
	// MD5 is true when the segment carries a TCP MD5 signature option (kind 19).
	MD5 bool `json:"md5,omitempty"`
}

// ICMPInfo describes an ICMP or ICMPv6 destination-unreachable message.
// The event's From/To are the endpoints of the TCP segment it quotes, with
// From being the side the segment was addressed to.
type ICMPInfo struct {
	// Reporter is the address that sent the ICMP message.
	Reporter netip.Addr `json:"reporter"`
	V6       bool       `json:"v6,omitempty"`
	Type     uint8      `json:"type"`
	Code     uint8      `json:"code"`
	// Reason is the RFC name of the type/code, e.g. "communication administratively prohibited".
	Reason string `json:"reason"`
}

// OpenInfo holds the fields of an OPEN message.
type OpenInfo struct {
	Version uint8  `json:"version"`
	MyAS    uint16 `json:"my_as"`
	// AS4 is the AS from the 4-octet AS capability, 0 if absent.
	AS4      uint32     `json:"as4,omitempty"`
	HoldTime uint16     `json:"hold_time"`
	RouterID netip.Addr `json:"router_id"`
	// Capabilities are capability names in the order sent, e.g.
	// "multiprotocol(ipv4-unicast)", "4-octet-as", "route-refresh",
	// "add-path(ipv4-unicast:receive/send)".
	Capabilities []string `json:"capabilities,omitempty"`

	// addPath is the ADD-PATH capability's (family, mode) tuples.
	addPath []bgp.CapAddPathTuple
}

// AS returns the speaker's AS number: the 4-octet one when advertised.
func (o *OpenInfo) AS() uint32 {
	if o.AS4 != 0 {
		return o.AS4
	}
	return uint32(o.MyAS)
}

// UpdateInfo summarises an UPDATE message without a per-prefix allocation:
// only counts and the first few prefixes are kept.
type UpdateInfo struct {
	// Announced counts NLRI in the NLRI field and in MP_REACH_NLRI.
	Announced int `json:"announced"`
	// Withdrawn counts withdrawn routes and MP_UNREACH_NLRI.
	Withdrawn int `json:"withdrawn"`
	// EndOfRIB is true for an empty UPDATE or an empty MP_UNREACH_NLRI.
	EndOfRIB bool `json:"end_of_rib,omitempty"`
	// Family is the AFI/SAFI name of the first MP attribute, or
	// "ipv4-unicast" for a plain End-of-RIB; empty otherwise.
	Family string `json:"family,omitempty"`
	// FirstAnnounced and FirstWithdrawn hold at most MaxPrefixesPerUpdate prefixes.
	FirstAnnounced []netip.Prefix `json:"first_announced,omitempty"`
	FirstWithdrawn []netip.Prefix `json:"first_withdrawn,omitempty"`
	NextHop        netip.Addr     `json:"next_hop,omitzero"`
	// ASPath is the AS_PATH flattened (AS_SETs in braces in ASPathText).
	ASPath      []uint32 `json:"as_path,omitempty"`
	ASPathText  string   `json:"as_path_text,omitempty"`
	Communities []string `json:"communities,omitempty"`
	// LocalPref and MED are 0 when absent.
	LocalPref    uint32       `json:"local_pref,omitempty"`
	MED          uint32       `json:"med,omitempty"`
	OriginatorID netip.Addr   `json:"originator_id,omitzero"`
	ClusterList  []netip.Addr `json:"cluster_list,omitempty"`
}

// NotificationInfo holds a NOTIFICATION message.
type NotificationInfo struct {
	Code    uint8 `json:"code"`
	Subcode uint8 `json:"subcode"`
	// Name is "<code name> / <subcode name>", e.g. "OPEN Message Error / Bad Peer AS".
	Name string `json:"name"`
	// Data is the hex of the data field, truncated.
	Data string `json:"data,omitempty"`
	// Communication is the RFC 8203/9003 shutdown communication text of
	// Cease subcodes 2 and 4, when present.
	Communication string `json:"communication,omitempty"`
}

// RouteRefreshInfo holds a ROUTE-REFRESH message.
type RouteRefreshInfo struct {
	Family string `json:"family"`
	// Subtype is the RFC 7313 demarcation: 0 normal, 1 BoRR, 2 EoRR.
	Subtype uint8 `json:"subtype"`
}

// GapInfo describes a silence in one direction of an established-looking
// session that lasted at least the hold time. The event is placed at the
// moment the hold timer would have expired; From is the silent speaker.
type GapInfo struct {
	LastSeen time.Time     `json:"last_seen"`
	Silence  time.Duration `json:"silence_ns"`
	HoldTime uint16        `json:"hold_time"`
	// Until is the time the silence ended: the next message from the silent
	// side, the end of the connection or the end of the capture.
	Until time.Time `json:"until"`
}

// MalformedInfo describes bytes that could not be decoded as a BGP message.
type MalformedInfo struct {
	// Offset is the byte offset in the TCP stream of that direction.
	Offset int64  `json:"offset"`
	Length int    `json:"length"`
	Error  string `json:"error"`
	// Bytes is a hex dump of the first bytes.
	Bytes string `json:"bytes"`
}

// ElidedInfo summarises the UPDATE and KEEPALIVE messages of one run that
// the timeline counted but did not store. A run is the sequence of such
// messages sent by one speaker between two other events of its session;
// its first and last DecodeOptions.Sample messages are kept around the
// elided event, which is placed at the time of the first elided message.
type ElidedInfo struct {
	// Messages is Updates + Keepalives.
	Messages   int64 `json:"messages"`
	Updates    int64 `json:"updates"`
	Keepalives int64 `json:"keepalives"`
	// Announced and Withdrawn sum the prefix counts of the elided UPDATEs.
	Announced int64 `json:"announced"`
	Withdrawn int64 `json:"withdrawn"`
	// First and Last are the times of the first and last elided message.
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
}
