package speaker

import (
	"fmt"
	"strings"

	"github.com/osrg/gobgp/v4/pkg/packet/bgp"
)

// rfcCodeName is the NOTIFICATION error code name of RFC 4271 §4.5 (and
// RFC 7313 for code 7).
func rfcCodeName(code uint8) string {
	switch code {
	case bgp.BGP_ERROR_MESSAGE_HEADER_ERROR:
		return "Message Header Error"
	case bgp.BGP_ERROR_OPEN_MESSAGE_ERROR:
		return "OPEN Message Error"
	case bgp.BGP_ERROR_UPDATE_MESSAGE_ERROR:
		return "UPDATE Message Error"
	case bgp.BGP_ERROR_HOLD_TIMER_EXPIRED:
		return "Hold Timer Expired"
	case bgp.BGP_ERROR_FSM_ERROR:
		return "Finite State Machine Error"
	case bgp.BGP_ERROR_CEASE:
		return "Cease"
	case bgp.BGP_ERROR_ROUTE_REFRESH_MESSAGE_ERROR:
		return "ROUTE-REFRESH Message Error"
	}
	return fmt.Sprintf("Error Code %d", code)
}

// rfcSubcodeName is the subcode name from the RFCs that define it
// (4271, 5492, 9234, 6608, 4486, 8203, 8538, 9384, 7313), or "" when the
// subcode is 0 (unspecific) or unassigned.
func rfcSubcodeName(code, sub uint8) string {
	var names []string
	switch code {
	case bgp.BGP_ERROR_MESSAGE_HEADER_ERROR:
		names = []string{"", "Connection Not Synchronized", "Bad Message Length", "Bad Message Type"}
	case bgp.BGP_ERROR_OPEN_MESSAGE_ERROR:
		names = []string{"", "Unsupported Version Number", "Bad Peer AS", "Bad BGP Identifier",
			"Unsupported Optional Parameter", "Authentication Failure (deprecated)",
			"Unacceptable Hold Time", "Unsupported Capability", "", "", "", "Role Mismatch"}
	case bgp.BGP_ERROR_UPDATE_MESSAGE_ERROR:
		names = []string{"", "Malformed Attribute List", "Unrecognized Well-known Attribute",
			"Missing Well-known Attribute", "Attribute Flags Error", "Attribute Length Error",
			"Invalid ORIGIN Attribute", "AS Routing Loop (deprecated)", "Invalid NEXT_HOP Attribute",
			"Optional Attribute Error", "Invalid Network Field", "Malformed AS_PATH"}
	case bgp.BGP_ERROR_FSM_ERROR:
		names = []string{"", "Receive Unexpected Message in OpenSent State",
			"Receive Unexpected Message in OpenConfirm State",
			"Receive Unexpected Message in Established State"}
	case bgp.BGP_ERROR_CEASE:
		names = []string{"", "Maximum Number of Prefixes Reached", "Administrative Shutdown",
			"Peer De-configured", "Administrative Reset", "Connection Rejected",
			"Other Configuration Change", "Connection Collision Resolution", "Out of Resources",
			"Hard Reset", "BFD Down"}
	case bgp.BGP_ERROR_ROUTE_REFRESH_MESSAGE_ERROR:
		names = []string{"", "Invalid Message Length"}
	}
	if int(sub) < len(names) {
		return names[sub]
	}
	return ""
}

// NotificationName returns the RFC name of a NOTIFICATION code and
// subcode, e.g. "OPEN Message Error / Bad Peer AS". Subcode 0 gives the
// code name alone; an unassigned subcode is shown by number.
func NotificationName(code, subcode uint8) string {
	name := rfcCodeName(code)
	if subcode == 0 {
		return name
	}
	if s := rfcSubcodeName(code, subcode); s != "" {
		return name + " / " + s
	}
	return fmt.Sprintf("%s / Subcode %d", name, subcode)
}

// notificationNames maps GoBGP's rendering of a NOTIFICATION code
// ("code 2(open) subcode 2(bad peer as)", as found in its disconnect
// messages) back to the code, subcode and RFC name. It is built once per
// Speaker and never written afterwards.
type notificationNames struct {
	byGoBGP map[string]Notification
}

// Notification codes and subcodes covered by the reverse table.
const (
	firstNotificationCode = 1
	lastNotificationCode  = 7
	lastNotificationSub   = 15
)

func newNotificationNames() notificationNames {
	m := make(map[string]Notification, (lastNotificationCode-firstNotificationCode+1)*(lastNotificationSub+1))
	for code := uint8(firstNotificationCode); code <= lastNotificationCode; code++ {
		for sub := uint8(0); sub <= lastNotificationSub; sub++ {
			key := bgp.NewNotificationErrorCode(code, sub).String()
			m[key] = Notification{Code: code, Subcode: sub, Name: NotificationName(code, sub)}
		}
	}
	return notificationNames{byGoBGP: m}
}

// GoBGP disconnect message prefixes that carry a NOTIFICATION.
const (
	prefixNotificationSent     = "notification-sent "
	prefixNotificationReceived = "notification-received "
)

// parse decodes a GoBGP disconnect message such as
// "notification-received code 2(open) subcode 2(bad peer as)". It returns
// nil when the message carries no NOTIFICATION.
func (n notificationNames) parse(msg string) *Notification {
	var sent bool
	var rest string
	switch {
	case strings.HasPrefix(msg, prefixNotificationSent):
		sent, rest = true, strings.TrimPrefix(msg, prefixNotificationSent)
	case strings.HasPrefix(msg, prefixNotificationReceived):
		rest = strings.TrimPrefix(msg, prefixNotificationReceived)
	default:
		return nil
	}
	if v, ok := n.byGoBGP[rest]; ok {
		v.Sent = sent
		return &v
	}
	var code, sub uint8
	if _, err := fmt.Sscanf(rest, "code %d(", &code); err != nil {
		return nil
	}
	if i := strings.Index(rest, "subcode "); i >= 0 {
		fmt.Sscanf(rest[i:], "subcode %d(", &sub) //nolint:errcheck // subcode stays 0 when unreadable
	}
	return &Notification{Code: code, Subcode: sub, Name: NotificationName(code, sub), Sent: sent}
}

// sentMessage renders a NOTIFICATION this speaker sent the way GoBGP
// renders one in its disconnect messages.
func sentMessage(code, sub uint8) string {
	return prefixNotificationSent + bgp.NewNotificationErrorCode(code, sub).String()
}

// Known reports whether the code and subcode of n are known. They are not
// for a NOTIFICATION received in OpenSent or OpenConfirm, which GoBGP
// v4.8.0 does not report.
func (n Notification) Known() bool { return n.Code != 0 }
