package lab

import (
	"testing"
	"time"

	"go.uber.org/zap"
)

// TestSubscribeWakesAndNeverBlocks checks that record wakes a subscriber,
// coalesces wake-ups instead of blocking on one that does not read, and
// stops waking it once unsubscribed.
func TestSubscribeWakesAndNeverBlocks(t *testing.T) {
	l := &Lab{log: zap.NewNop(), live: map[sessionKey]SessionStatus{}}
	ch, cancel := l.Subscribe()
	for i := 0; i < 10; i++ { // nobody reads: record must not block
		l.record(SessionEvent{Time: time.Now(), Local: "a", Remote: "b", From: "Idle", To: "Active"})
	}
	select {
	case <-ch:
	default:
		t.Fatal("no wake-up after record")
	}
	select {
	case <-ch:
		t.Fatal("wake-ups were not coalesced into one")
	default:
	}
	cancel()
	l.record(SessionEvent{Time: time.Now(), Local: "a", Remote: "b", From: "Active", To: "Established"})
	select {
	case <-ch:
		t.Fatal("woken after unsubscribing")
	default:
	}
	if n := len(l.Events()); n != 11 {
		t.Errorf("Events() has %d entries, want 11", n)
	}
}
