package speaker

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestSessionsEstablish(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		asnA, asnB uint32
	}{
		{name: "ibgp", asnA: 64512, asnB: 64512},
		{name: "ebgp", asnA: 64512, asnB: 64513},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n := newTestNet(t)
			a := startSpeaker(t, n, 1, "a", tc.asnA)
			b := startSpeaker(t, n, 2, "b", tc.asnB)
			evA := recordEvents(t, a)
			addPeer(t, a, peerOf(n, b, 2))
			addPeer(t, b, peerOf(n, a, 1))
			waitState(t, a, n.addr(2), StateEstablished)
			waitState(t, b, n.addr(1), StateEstablished)

			st := peerStatus(t, a, n.addr(2))
			if st.Speaker != "a" || st.Peer != "b" || st.ASN != tc.asnB || st.Address != n.addr(2) {
				t.Errorf("status = %+v, want speaker a, peer b, asn %d, address %v", st, tc.asnB, n.addr(2))
			}
			if st.LastError != "" || st.Notification != nil {
				t.Errorf("established session keeps error %q / %+v", st.LastError, st.Notification)
			}
			if st.Since.IsZero() {
				t.Error("Since is zero")
			}

			var events []Event
			waitFor(t, 5*time.Second, "Established event", func() bool {
				events = evA.snapshot()
				return len(events) > 0 && events[len(events)-1].To == StateEstablished
			})
			if first := events[0]; first.From != StateIdle && first.From != StateActive {
				t.Errorf("first event from %s, want Idle or Active: %+v", first.From, events)
			}
			for i, e := range events {
				if e.Speaker != "a" || e.Peer != "b" || e.Address != n.addr(2) || e.Time.IsZero() {
					t.Errorf("event %d = %+v, want speaker a, peer b at %v", i, e, n.addr(2))
				}
				if i > 0 && e.From != events[i-1].To {
					t.Errorf("event %d goes from %s but the previous one went to %s", i, e.From, events[i-1].To)
				}
			}
		})
	}
}

func TestBadPeerAS(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// detectorPassive makes the detecting side accept the connection
		// (its FSM validates the OPEN and raises a state event); when it
		// dials itself, GoBGP v4.8.0 sends the NOTIFICATION with no state
		// change or event and only the log tap sees it.
		detectorPassive bool
	}{
		{"detector accepts", true},
		{"detector dials", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			testBadPeerAS(t, tc.detectorPassive)
		})
	}
}

func testBadPeerAS(t *testing.T, detectorPassive bool) {
	n := newTestNet(t)
	a := startSpeaker(t, n, 1, "a", 64512)
	b := startSpeaker(t, n, 2, "b", 64513)
	wrong := peerOf(n, b, 2)
	wrong.ASN = 64999 // b really is 64513: a detects the mismatch
	wrong.Passive = detectorPassive
	fromA := peerOf(n, a, 1)
	fromA.Passive = !detectorPassive
	addPeer(t, a, wrong)
	addPeer(t, b, fromA)

	// a detects the mismatch and reports what it sent.
	var st PeerStatus
	waitFor(t, establishTimeout, "a's notification", func() bool {
		st = peerStatus(t, a, n.addr(2))
		return st.Notification != nil
	})
	want := Notification{Code: 2, Subcode: 2, Name: "OPEN Message Error / Bad Peer AS", Sent: true}
	if *st.Notification != want {
		t.Errorf("a: notification = %+v, want %+v", *st.Notification, want)
	}
	if !strings.Contains(st.LastError, "bad peer as") {
		t.Errorf("a: LastError = %q, want it to contain %q", st.LastError, "bad peer as")
	}

	// b receives the NOTIFICATION in OpenConfirm, where GoBGP v4.8.0 drops
	// its code: b must still report a received NOTIFICATION, and its code
	// when GoBGP does report it.
	waitFor(t, establishTimeout, "b's notification", func() bool {
		st = peerStatus(t, b, n.addr(1))
		return st.Notification != nil
	})
	if st.Notification.Sent {
		t.Errorf("b: notification %+v marked sent, want received", *st.Notification)
	}
	if st.Notification.Known() {
		want.Sent = false
		if *st.Notification != want {
			t.Errorf("b: notification = %+v, want %+v", *st.Notification, want)
		}
		if !strings.Contains(st.LastError, "bad peer as") {
			t.Errorf("b: LastError = %q, want it to contain %q", st.LastError, "bad peer as")
		}
	} else if !strings.HasPrefix(st.LastError, "notification-received") {
		t.Errorf("b: LastError = %q, want a notification-received reason", st.LastError)
	}
	for _, s := range []*Speaker{a, b} {
		for _, p := range mustPeers(t, s) {
			if p.State == StateEstablished {
				t.Errorf("%s: session established despite the AS mismatch", s.Name())
			}
		}
	}
}

func mustPeers(t *testing.T, s *Speaker) []PeerStatus {
	t.Helper()
	ps, err := s.Peers(context.Background())
	if err != nil {
		t.Fatalf("%s.Peers: %v", s.Name(), err)
	}
	return ps
}

func TestResetPeer(t *testing.T) {
	t.Parallel()
	n := newTestNet(t)
	a := startSpeaker(t, n, 1, "a", 64512)
	b := startSpeaker(t, n, 2, "b", 64512)
	addPeer(t, a, peerOf(n, b, 2))
	addPeer(t, b, peerOf(n, a, 1))
	waitState(t, a, n.addr(2), StateEstablished)
	waitState(t, b, n.addr(1), StateEstablished)
	evB := recordEvents(t, b)

	if err := a.ResetPeer(context.Background(), n.addr(2)); err != nil {
		t.Fatalf("ResetPeer: %v", err)
	}
	var down Event
	waitFor(t, establishTimeout, "b sees the reset and comes back", func() bool {
		events := evB.snapshot()
		for _, e := range events {
			if e.From == StateEstablished {
				down = e
			}
		}
		return down.From == StateEstablished && events[len(events)-1].To == StateEstablished
	})
	want := Notification{Code: 6, Subcode: 4, Name: "Cease / Administrative Reset", Sent: false}
	if down.Notification == nil || *down.Notification != want {
		t.Errorf("down event notification = %+v, want %+v", down.Notification, want)
	}
	if !strings.Contains(down.Reason, "administrative reset") {
		t.Errorf("down event reason = %q, want it to mention the administrative reset", down.Reason)
	}
	waitState(t, b, n.addr(1), StateEstablished)
	if st := peerStatus(t, b, n.addr(1)); st.LastError != "" || st.Notification != nil {
		t.Errorf("re-established session keeps error %q / %+v", st.LastError, st.Notification)
	}
}

func TestMD5(t *testing.T) {
	t.Parallel()
	requireRoot(t)
	tests := []struct {
		name      string
		pwA, pwB  string
		establish bool
	}{
		{name: "matching", pwA: "s3cret", pwB: "s3cret", establish: true},
		{name: "mismatched", pwA: "s3cret", pwB: "other", establish: false},
		{name: "one-sided", pwA: "s3cret", pwB: "", establish: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n := newTestNet(t)
			a := startSpeaker(t, n, 1, "a", 64512)
			b := startSpeaker(t, n, 2, "b", 64512)
			pa, pb := peerOf(n, b, 2), peerOf(n, a, 1)
			pa.Password, pb.Password = tc.pwA, tc.pwB
			addPeer(t, a, pa)
			addPeer(t, b, pb)
			if tc.establish {
				waitState(t, a, n.addr(2), StateEstablished)
				waitState(t, b, n.addr(1), StateEstablished)
				return
			}
			neverState(t, a, n.addr(2), StateEstablished, 7*time.Second)
		})
	}
}

func TestPassive(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name               string
		passiveA, passiveB bool
		establish          bool
	}{
		{name: "both-passive", passiveA: true, passiveB: true, establish: false},
		{name: "one-passive", passiveA: true, passiveB: false, establish: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n := newTestNet(t)
			a := startSpeaker(t, n, 1, "a", 64512)
			b := startSpeaker(t, n, 2, "b", 64513)
			pa, pb := peerOf(n, b, 2), peerOf(n, a, 1)
			pa.Passive, pb.Passive = tc.passiveA, tc.passiveB
			addPeer(t, a, pa)
			addPeer(t, b, pb)
			if tc.establish {
				waitState(t, a, n.addr(2), StateEstablished)
				waitState(t, b, n.addr(1), StateEstablished)
				return
			}
			neverState(t, a, n.addr(2), StateEstablished, 7*time.Second)
		})
	}
}

func TestDeletePeer(t *testing.T) {
	t.Parallel()
	n := newTestNet(t)
	a := startSpeaker(t, n, 1, "a", 64512)
	b := startSpeaker(t, n, 2, "b", 64512)
	addPeer(t, a, peerOf(n, b, 2))
	addPeer(t, b, peerOf(n, a, 1))
	waitState(t, b, n.addr(1), StateEstablished)

	if err := a.DeletePeer(context.Background(), n.addr(2)); err != nil {
		t.Fatalf("DeletePeer: %v", err)
	}
	if _, err := a.Peer(context.Background(), n.addr(2)); !errors.Is(err, ErrPeerNotFound) {
		t.Errorf("Peer after delete: err = %v, want ErrPeerNotFound", err)
	}
	var st PeerStatus
	waitFor(t, establishTimeout, "b sees the de-configuration", func() bool {
		st = peerStatus(t, b, n.addr(1))
		return st.Notification != nil
	})
	want := Notification{Code: 6, Subcode: 3, Name: "Cease / Peer De-configured"}
	if *st.Notification != want {
		t.Errorf("b notification = %+v, want %+v", *st.Notification, want)
	}
	if err := a.DeletePeer(context.Background(), n.addr(2)); !errors.Is(err, ErrPeerNotFound) {
		t.Errorf("second DeletePeer: err = %v, want ErrPeerNotFound", err)
	}
}
