package capture

import "strconv"

// notificationCodeNames are the RFC 4271 (and later) NOTIFICATION error code names.
var notificationCodeNames = map[uint8]string{
	1: "Message Header Error",
	2: "OPEN Message Error",
	3: "UPDATE Message Error",
	4: "Hold Timer Expired",
	5: "Finite State Machine Error",
	6: "Cease",
	7: "ROUTE-REFRESH Message Error",
}

// notificationSubcodeNames maps code to subcode names (RFC 4271, 4486,
// 6608, 7313, 8538, 9234, 9384).
var notificationSubcodeNames = map[uint8]map[uint8]string{
	1: {1: "Connection Not Synchronized", 2: "Bad Message Length", 3: "Bad Message Type"},
	2: {
		1: "Unsupported Version Number", 2: "Bad Peer AS", 3: "Bad BGP Identifier",
		4: "Unsupported Optional Parameter", 5: "Authentication Failure (deprecated)",
		6: "Unacceptable Hold Time", 7: "Unsupported Capability", 11: "Role Mismatch",
	},
	3: {
		1: "Malformed Attribute List", 2: "Unrecognized Well-known Attribute",
		3: "Missing Well-known Attribute", 4: "Attribute Flags Error", 5: "Attribute Length Error",
		6: "Invalid ORIGIN Attribute", 7: "AS Routing Loop (deprecated)", 8: "Invalid NEXT_HOP Attribute",
		9: "Optional Attribute Error", 10: "Invalid Network Field", 11: "Malformed AS_PATH",
	},
	5: {
		1: "Receive Unexpected Message in OpenSent State",
		2: "Receive Unexpected Message in OpenConfirm State",
		3: "Receive Unexpected Message in Established State",
	},
	6: {
		1: "Maximum Number of Prefixes Reached", 2: "Administrative Shutdown", 3: "Peer De-configured",
		4: "Administrative Reset", 5: "Connection Rejected", 6: "Other Configuration Change",
		7: "Connection Collision Resolution", 8: "Out of Resources", 9: "Hard Reset", 10: "BFD Down",
	},
	7: {1: "Invalid Message Length"},
}

// NotificationName returns "<code name> / <subcode name>" for a
// NOTIFICATION, e.g. "OPEN Message Error / Bad Peer AS". Subcode 0 is
// "Unspecific"; unknown values are shown as numbers.
func NotificationName(code, subcode uint8) string {
	c, ok := notificationCodeNames[code]
	if !ok {
		c = "Unknown Error " + strconv.Itoa(int(code))
	}
	if subcode == 0 {
		return c + " / Unspecific"
	}
	s, ok := notificationSubcodeNames[code][subcode]
	if !ok {
		s = "Unknown Subcode " + strconv.Itoa(int(subcode))
	}
	return c + " / " + s
}

// icmp4UnreachNames are the ICMP type 3 code names (RFC 792, 1122, 1812).
var icmp4UnreachNames = [...]string{
	"net unreachable", "host unreachable", "protocol unreachable", "port unreachable",
	"fragmentation needed", "source route failed", "destination network unknown",
	"destination host unknown", "source host isolated", "network administratively prohibited",
	"host administratively prohibited", "network unreachable for TOS", "host unreachable for TOS",
	"communication administratively prohibited", "host precedence violation", "precedence cutoff in effect",
}

// icmp6UnreachNames are the ICMPv6 type 1 code names (RFC 4443).
var icmp6UnreachNames = [...]string{
	"no route to destination", "communication with destination administratively prohibited",
	"beyond scope of source address", "address unreachable", "port unreachable",
	"source address failed ingress/egress policy", "reject route to destination",
	"error in source routing header",
}

// ICMPUnreachableName names an ICMP (v6=false, type 3) or ICMPv6 (v6=true,
// type 1) destination-unreachable code.
func ICMPUnreachableName(v6 bool, code uint8) string {
	names := icmp4UnreachNames[:]
	if v6 {
		names = icmp6UnreachNames[:]
	}
	if int(code) < len(names) {
		return names[code]
	}
	return "code " + strconv.Itoa(int(code))
}
