package speaker

import (
	"net/netip"
	"sync"
	"time"
)

// peerTrack is what the speaker remembers about one neighbor between
// GoBGP events.
type peerTrack struct {
	name         string
	asn          uint32
	state        State
	since        time.Time
	lastError    string
	notification *Notification
	// notifRecv is GoBGP's count of NOTIFICATIONs received from the peer,
	// as last read (see Speaker.noticeUnreportedNotification).
	notifRecv uint64
}

// peerTracker holds the per-neighbor tracks of one speaker.
type peerTracker struct {
	mu    sync.Mutex
	peers map[netip.Addr]*peerTrack
}

func newPeerTracker() *peerTracker {
	return &peerTracker{peers: make(map[netip.Addr]*peerTrack)}
}

// add registers a neighbor in Idle, the state GoBGP's FSM starts in. It
// reports false when the address is already tracked.
func (t *peerTracker) add(addr netip.Addr, name string, asn uint32, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.peers[addr]; ok {
		return false
	}
	t.peers[addr] = &peerTrack{name: name, asn: asn, state: StateIdle, since: now}
	return true
}

// remove forgets a neighbor and reports whether it was tracked.
func (t *peerTracker) remove(addr netip.Addr) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, ok := t.peers[addr]
	delete(t.peers, addr)
	return ok
}

// has reports whether a neighbor is tracked.
func (t *peerTracker) has(addr netip.Addr) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, ok := t.peers[addr]
	return ok
}

// snapshot returns a copy of a neighbor's track.
func (t *peerTracker) snapshot(addr netip.Addr) (peerTrack, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p, ok := t.peers[addr]
	if !ok {
		return peerTrack{}, false
	}
	return *p, true
}

// state returns a neighbor's tracked state (StateUnknown if untracked).
func (t *peerTracker) state(addr netip.Addr) State {
	t.mu.Lock()
	defer t.mu.Unlock()
	if p, ok := t.peers[addr]; ok {
		return p.state
	}
	return StateUnknown
}

// noteNotifications stores GoBGP's received-NOTIFICATION count for a
// neighbor and reports whether it grew since the last call.
func (t *peerTracker) noteNotifications(addr netip.Addr, count uint64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	p, ok := t.peers[addr]
	if !ok {
		return false
	}
	grew := count > p.notifRecv
	p.notifRecv = count
	return grew
}

// transition records a state change and returns the event describing it.
// down carries the disconnect reason and notification when the change is
// a session failure. ok is false for untracked neighbors (for example,
// events that trail a DeletePeer).
func (t *peerTracker) transition(addr netip.Addr, to State, at time.Time, down *downCause) (Event, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p, ok := t.peers[addr]
	if !ok {
		return Event{}, false
	}
	ev := Event{Time: at, Peer: p.name, Address: addr, From: p.state, To: to}
	p.state = to
	p.since = at
	switch {
	case to == StateEstablished:
		p.lastError = ""
		p.notification = nil
	case down != nil:
		p.lastError = down.reason
		if down.notification != nil {
			n := *down.notification
			p.notification = &n
		}
		ev.Reason = down.reason
		ev.Notification = down.notification
	}
	return ev, true
}

// noteSent records a NOTIFICATION the speaker sent to a neighbor and
// returns an event for it (From and To both the current state: sending a
// NOTIFICATION on a connection GoBGP dialled itself before Established
// changes no state). While the session is not Established the NOTIFICATION
// also becomes its last error.
func (t *peerTracker) noteSent(addr netip.Addr, n Notification, reason string, at time.Time) (Event, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p, ok := t.peers[addr]
	if !ok {
		return Event{}, false
	}
	p.notification = &n
	if p.state != StateEstablished {
		p.lastError = reason
	}
	return Event{Time: at, Peer: p.name, Address: addr, From: p.state, To: p.state, Reason: reason, Notification: &n}, true
}
