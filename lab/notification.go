package lab

import "fmt"

// Notification is a BGP NOTIFICATION one end of a session sent or received.
type Notification struct {
	Code    uint8
	Subcode uint8
	// Name is the RFC name, "OPEN Message Error / Bad Peer AS".
	Name string
	// Sent is true when this end sent it.
	Sent bool
	// FromPeer is set when this end's daemon did not report the code it
	// received and the lab filled it in from what the other end sent.
	FromPeer bool
}

// Known reports whether the code is known (0 is not a NOTIFICATION code).
func (n *Notification) Known() bool { return n != nil && n.Code != 0 }

// String renders "2/2 OPEN Message Error / Bad Peer AS (sent)", or "" for nil.
func (n *Notification) String() string {
	if n == nil {
		return ""
	}
	dir := "received"
	switch {
	case n.Sent:
		dir = "sent"
	case n.FromPeer:
		dir = "received; code as the peer sent it"
	}
	if !n.Known() {
		return fmt.Sprintf("code unknown: %s (%s)", n.Name, dir)
	}
	return fmt.Sprintf("%d/%d %s (%s)", n.Code, n.Subcode, n.Name, dir)
}

// fillReceivedFromSender completes a received NOTIFICATION whose code the
// daemon did not report (GoBGP v4 drops the code of one received before
// Established) with the code the other end of the same session says it
// sent. Both ends are in the lab, so the sender's word is evidence, and
// the result is marked FromPeer.
func fillReceivedFromSender(ss []SessionStatus) {
	idx := make(map[sessionKey]int, len(ss))
	for i, s := range ss {
		idx[sessionKey{s.Local, s.Remote}] = i
	}
	for i := range ss {
		n := ss[i].Notification
		if n == nil || n.Sent || n.Known() {
			continue
		}
		j, ok := idx[sessionKey{ss[i].Remote, ss[i].Local}]
		if !ok {
			continue
		}
		sent := ss[j].Notification
		if sent == nil || !sent.Sent || !sent.Known() {
			continue
		}
		ss[i].Notification = &Notification{Code: sent.Code, Subcode: sent.Subcode, Name: sent.Name, FromPeer: true}
	}
}
