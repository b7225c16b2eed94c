package bird

// How BIRD prints a BGP protocol's last error, read in BIRD's source
// (proto/bgp/bgp.c and proto/bgp/packets.c; BIRD 1.6 and 2.x agree):
//
//   - bgp_err_classes[] = { "", "Error: ", "Socket: ", "Received: ",
//     "BGP Error: ", "Automatic shutdown: ", "" } is printed first, indexed
//     by the class bgp_store_error() recorded: BE_MISC, BE_SOCKET,
//     BE_BGP_RX (a NOTIFICATION received), BE_BGP_TX (a NOTIFICATION this
//     end sent, through bgp_error()), BE_AUTO_DOWN, BE_MAN_DOWN.
//   - bgp_last_errmsg() prints the message: for BE_BGP_RX and BE_BGP_TX
//     bgp_error_dsc(code, subcode), the text of bgp_msg_table (below) or
//     "Unknown error C.S"; for BE_SOCKET strerror(errno) or "Connection
//     closed"; for BE_MISC bgp_misc_errors[] ("Neighbor lost", "Invalid
//     next hop", "Kernel MD5 auth failed", "No listening socket", "Link
//     down", "BFD session down", "Graceful restart"); for BE_AUTO_DOWN
//     bgp_auto_errors[] ("Route limit exceeded", after which bgp_stop()
//     sends Cease 6/1).
//
// `show protocols` prints class and message after the BGP state in the info
// column; `show protocols all` prints them on the "Last error:" line.

import (
	"strconv"
	"strings"
)

// ErrorClass is the class BIRD prints before a BGP protocol's last error.
type ErrorClass string

// BIRD's error classes, as printed (without the ": ").
const (
	// ClassNone means no error is recorded.
	ClassNone ErrorClass = ""
	// ClassMisc is BE_MISC ("Error: Neighbor lost").
	ClassMisc ErrorClass = "Error"
	// ClassSocket is BE_SOCKET ("Socket: Connection refused").
	ClassSocket ErrorClass = "Socket"
	// ClassReceived is BE_BGP_RX, a NOTIFICATION received ("Received: Bad peer AS").
	ClassReceived ErrorClass = "Received"
	// ClassSent is BE_BGP_TX, a NOTIFICATION this end sent ("BGP Error: Hold timer expired").
	ClassSent ErrorClass = "BGP Error"
	// ClassAutoShutdown is BE_AUTO_DOWN ("Automatic shutdown: Route limit exceeded").
	ClassAutoShutdown ErrorClass = "Automatic shutdown"
)

// LastError is BIRD's last-error text taken apart.
type LastError struct {
	// Class is the printed class; ClassNone when the text had no known class.
	Class ErrorClass
	// Message is the text after the class, e.g. "Bad peer AS".
	Message string
	// Notification is true when the error is a BGP NOTIFICATION this end
	// sent or received; Code, Subcode and Sent are valid only then.
	Notification bool
	// Code and Subcode are the NOTIFICATION's error code and subcode.
	Code, Subcode uint8
	// Sent is true when this end sent the NOTIFICATION.
	Sent bool
}

// bgpMsgTable is BIRD's bgp_msg_table (proto/bgp/packets.c): the text
// bgp_error_dsc() prints for each NOTIFICATION code and subcode.
var bgpMsgTable = []struct {
	code, subcode uint8
	text          string
}{
	{1, 0, "Invalid message header"},
	{1, 1, "Connection not synchronized"},
	{1, 2, "Bad message length"},
	{1, 3, "Bad message type"},
	{2, 0, "Invalid OPEN message"},
	{2, 1, "Unsupported version number"},
	{2, 2, "Bad peer AS"},
	{2, 3, "Bad BGP identifier"},
	{2, 4, "Unsupported optional parameter"},
	{2, 5, "Authentication failure"},
	{2, 6, "Unacceptable hold time"},
	{2, 7, "Required capability missing"},
	{2, 8, "No supported AFI/SAFI"},
	{3, 0, "Invalid UPDATE message"},
	{3, 1, "Malformed attribute list"},
	{3, 2, "Unrecognized well-known attribute"},
	{3, 3, "Missing mandatory attribute"},
	{3, 4, "Invalid attribute flags"},
	{3, 5, "Invalid attribute length"},
	{3, 6, "Invalid ORIGIN attribute"},
	{3, 7, "AS routing loop"},
	{3, 8, "Invalid NEXT_HOP attribute"},
	{3, 9, "Optional attribute error"},
	{3, 10, "Invalid network field"},
	{3, 11, "Malformed AS_PATH"},
	{4, 0, "Hold timer expired"},
	{5, 0, "Finite state machine error"},
	{5, 1, "Unexpected message in OpenSent state"},
	{5, 2, "Unexpected message in OpenConfirm state"},
	{5, 3, "Unexpected message in Established state"},
	{6, 0, "Cease"},
	{6, 1, "Maximum number of prefixes reached"},
	{6, 2, "Administrative shutdown"},
	{6, 3, "Peer de-configured"},
	{6, 4, "Administrative reset"},
	{6, 5, "Connection rejected"},
	{6, 6, "Other configuration change"},
	{6, 7, "Connection collision resolution"},
	{6, 8, "Out of Resources"},
	{7, 0, "Invalid ROUTE-REFRESH message"},
	{7, 1, "Invalid ROUTE-REFRESH message length"},
}

// classPrefixes are tried in order; "BGP Error" must come before "Error".
var classPrefixes = []ErrorClass{ClassSent, ClassReceived, ClassSocket, ClassAutoShutdown, ClassMisc}

// ParseLastError takes apart a BGP protocol's last error as BIRD 1.6 or 2.x
// prints it ("Received: Bad peer AS", "BGP Error: Hold timer expired",
// "Socket: Connection refused") and maps NOTIFICATION texts back to their
// code and subcode. It accepts the text with or without a leading BGP state
// (the info column of `show protocols`: "Active  Received: Bad peer AS"),
// and "Error: " before a NOTIFICATION text as a NOTIFICATION sent. A
// message BIRD's tables do not hold is returned with Notification false.
func ParseLastError(s string) LastError {
	s = strings.Join(strings.Fields(s), " ")
	var le LastError
	for _, c := range classPrefixes {
		i := classIndex(s, c)
		if i < 0 {
			continue
		}
		le.Class = c
		le.Message = strings.TrimSpace(s[i+len(c)+1:])
		break
	}
	if le.Class == ClassNone {
		le.Message = s
		return le
	}
	switch le.Class {
	case ClassReceived, ClassSent, ClassMisc:
		code, sub, ok := notificationCode(le.Message)
		if !ok {
			return le
		}
		le.Notification, le.Code, le.Subcode = true, code, sub
		le.Sent = le.Class != ClassReceived
	case ClassAutoShutdown:
		// bgp_stop() sends Cease / Maximum number of prefixes reached.
		if strings.EqualFold(le.Message, "Route limit exceeded") {
			le.Notification, le.Code, le.Subcode, le.Sent = true, 6, 1, true
		}
	}
	return le
}

// classIndex finds "CLASS:" in s at the start or after a space (the BGP
// state), and returns its index or -1.
func classIndex(s string, c ErrorClass) int {
	prefix := string(c) + ":"
	if hasPrefixFold(s, prefix) {
		return 0
	}
	// Only the first word may precede the class: the BGP state.
	if _, rest, ok := strings.Cut(s, " "); ok && hasPrefixFold(rest, prefix) {
		return len(s) - len(rest)
	}
	return -1
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// notificationCode maps a bgp_error_dsc() text back to code and subcode.
// BIRD 1.6 logs may append the peer's AS (": 65001") or data bytes, so a
// text that only starts with a table entry followed by ':' also matches.
func notificationCode(msg string) (code, sub uint8, ok bool) {
	for _, e := range bgpMsgTable {
		if strings.EqualFold(msg, e.text) {
			return e.code, e.subcode, true
		}
	}
	for _, e := range bgpMsgTable {
		if hasPrefixFold(msg, e.text+":") {
			return e.code, e.subcode, true
		}
	}
	if rest, found := cutPrefixFold(msg, "Unknown error "); found {
		f := strings.Fields(rest)
		if len(f) == 0 {
			return 0, 0, false
		}
		c, s, dot := strings.Cut(strings.TrimSuffix(f[0], ":"), ".")
		if !dot {
			return 0, 0, false
		}
		ci, err1 := strconv.ParseUint(c, 10, 8)
		si, err2 := strconv.ParseUint(s, 10, 8)
		if err1 == nil && err2 == nil && ci > 0 {
			return uint8(ci), uint8(si), true
		}
	}
	return 0, 0, false
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if !hasPrefixFold(s, prefix) {
		return s, false
	}
	return s[len(prefix):], true
}

// NotificationText returns the text BIRD prints for a NOTIFICATION code and
// subcode (bgp_error_dsc), e.g. "Bad peer AS" for 2/2.
func NotificationText(code, subcode uint8) string {
	for _, e := range bgpMsgTable {
		if e.code == code && e.subcode == subcode {
			return e.text
		}
	}
	return "Unknown error " + strconv.Itoa(int(code)) + "." + strconv.Itoa(int(subcode))
}
