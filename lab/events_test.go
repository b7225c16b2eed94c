package lab

import (
	"testing"
	"time"

	"go.uber.org/zap"
)

// TestEventsSinceKeepsRecordOrder records state changes whose times are
// out of order (two nodes report with different delays) and checks that a
// watcher following EventsSince sees each exactly once, where a position
// in the time-sorted Events would skip the late one.
func TestEventsSinceKeepsRecordOrder(t *testing.T) {
	l := &Lab{live: map[sessionKey]SessionStatus{}, log: zap.NewNop()}
	t0 := time.Now()
	l.record(SessionEvent{Time: t0.Add(2 * time.Millisecond), Local: "node2", Remote: "node1", To: "Established"})
	got, seq := l.EventsSince(0)
	if len(got) != 1 || seq != 1 {
		t.Fatalf("EventsSince(0) = %d events, next %d; want 1, 1", len(got), seq)
	}
	// node1's report arrives later but happened earlier.
	l.record(SessionEvent{Time: t0.Add(time.Millisecond), Local: "node1", Remote: "node2", To: "Established"})
	got, seq = l.EventsSince(seq)
	if len(got) != 1 || got[0].Local != "node1" || seq != 2 {
		t.Fatalf("EventsSince(1) = %+v, next %d; want node1's event, next 2", got, seq)
	}
	if got, next := l.EventsSince(seq); len(got) != 0 || next != 2 {
		t.Errorf("EventsSince(2) = %d events, next %d; want none, 2", len(got), next)
	}
	if ev := l.Events(); ev[0].Local != "node1" {
		t.Errorf("Events()[0] is %s's, want node1's (time order)", ev[0].Local)
	}

	// Past maxEvents the oldest half is dropped; sequence numbers go on.
	for range maxEvents {
		l.record(SessionEvent{Time: t0, Local: "a", Remote: "b", To: "Idle"})
	}
	got, next := l.EventsSince(seq)
	if next != 2+maxEvents {
		t.Errorf("next = %d, want %d", next, 2+maxEvents)
	}
	if len(got) == 0 || len(got) > maxEvents {
		t.Errorf("EventsSince(%d) after trimming = %d events, want 1..%d", seq, len(got), maxEvents)
	}
	if got, _ := l.EventsSince(next - 1); len(got) != 1 {
		t.Errorf("EventsSince(next-1) = %d events, want 1", len(got))
	}
}
