package bird

import "testing"

func TestParseLastError(t *testing.T) {
	notif := func(class ErrorClass, msg string, code, sub uint8, sent bool) LastError {
		return LastError{Class: class, Message: msg, Notification: true, Code: code, Subcode: sub, Sent: sent}
	}
	for _, tc := range []struct {
		in   string
		want LastError
	}{
		{"", LastError{}},
		{"Received: Bad peer AS", notif(ClassReceived, "Bad peer AS", 2, 2, false)},
		{"BGP Error: Bad peer AS", notif(ClassSent, "Bad peer AS", 2, 2, true)},
		{"Error: Bad peer AS", notif(ClassMisc, "Bad peer AS", 2, 2, true)},
		{"BGP Error: Hold timer expired", notif(ClassSent, "Hold timer expired", 4, 0, true)},
		{"Received: Hold timer expired", notif(ClassReceived, "Hold timer expired", 4, 0, false)},
		{"Received: Bad BGP identifier", notif(ClassReceived, "Bad BGP identifier", 2, 3, false)},
		{"Received: Administrative shutdown", notif(ClassReceived, "Administrative shutdown", 6, 2, false)},
		{"Received: Unacceptable hold time", notif(ClassReceived, "Unacceptable hold time", 2, 6, false)},
		{"BGP Error: Malformed AS_PATH", notif(ClassSent, "Malformed AS_PATH", 3, 11, true)},
		{"BGP Error: Unexpected message in OpenConfirm state", notif(ClassSent, "Unexpected message in OpenConfirm state", 5, 2, true)},
		{"Received: Invalid ROUTE-REFRESH message length", notif(ClassReceived, "Invalid ROUTE-REFRESH message length", 7, 1, false)},
		{"Received: Unknown error 6.10", notif(ClassReceived, "Unknown error 6.10", 6, 10, false)},
		{"Received: Bad peer AS: 65001", notif(ClassReceived, "Bad peer AS: 65001", 2, 2, false)},
		{"received: bad PEER as", notif(ClassReceived, "bad PEER as", 2, 2, false)},
		{"Automatic shutdown: Route limit exceeded", notif(ClassAutoShutdown, "Route limit exceeded", 6, 1, true)},
		// The info column of `show protocols`: state first, padded.
		{"Active        Received: Bad peer AS", notif(ClassReceived, "Bad peer AS", 2, 2, false)},
		{"Idle          BGP Error: Hold timer expired", notif(ClassSent, "Hold timer expired", 4, 0, true)},
		// Not NOTIFICATIONs.
		{"Socket: Connection refused", LastError{Class: ClassSocket, Message: "Connection refused"}},
		{"Active Socket: No route to host", LastError{Class: ClassSocket, Message: "No route to host"}},
		{"Socket: Connection closed", LastError{Class: ClassSocket, Message: "Connection closed"}},
		{"Error: Neighbor lost", LastError{Class: ClassMisc, Message: "Neighbor lost"}},
		{"Error: Kernel MD5 auth failed", LastError{Class: ClassMisc, Message: "Kernel MD5 auth failed"}},
		{"Received: Something new", LastError{Class: ClassReceived, Message: "Something new"}},
		{"Received: Unknown error", LastError{Class: ClassReceived, Message: "Unknown error"}},
		{"Received: Unknown error 0.0", LastError{Class: ClassReceived, Message: "Unknown error 0.0"}},
		{"Established", LastError{Message: "Established"}},
		{"Some Other Thing: Bad peer AS", LastError{Message: "Some Other Thing: Bad peer AS"}},
	} {
		t.Run(tc.in, func(t *testing.T) {
			if got := ParseLastError(tc.in); got != tc.want {
				t.Errorf("ParseLastError(%q) =\n %+v, want\n %+v", tc.in, got, tc.want)
			}
		})
	}
}

func TestNotificationTextRoundTrip(t *testing.T) {
	if len(bgpMsgTable) == 0 {
		t.Fatal("empty table")
	}
	for _, e := range bgpMsgTable {
		for _, tc := range []struct {
			prefix string
			sent   bool
		}{{"Received: ", false}, {"BGP Error: ", true}} {
			text := tc.prefix + NotificationText(e.code, e.subcode)
			le := ParseLastError(text)
			if !le.Notification || le.Code != e.code || le.Subcode != e.subcode || le.Sent != tc.sent {
				t.Errorf("%q -> %+v, want %d/%d sent=%v", text, le, e.code, e.subcode, tc.sent)
			}
		}
	}
	if got := NotificationText(9, 9); got != "Unknown error 9.9" {
		t.Errorf("NotificationText(9, 9) = %q", got)
	}
}
