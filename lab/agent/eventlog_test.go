package agent

import (
	"context"
	"testing"
	"time"

	"github.com/peerlab/peerlab/speaker"
)

// seqs lists the sequence numbers of a batch.
func seqs(b EventBatch) []uint64 {
	var out []uint64
	for _, e := range b.Events {
		out = append(out, e.Seq)
	}
	return out
}

func TestEventLogCollect(t *testing.T) {
	for _, tc := range []struct {
		name             string
		size, added, max int
		since            uint64
		want             []uint64
		next, missed     uint64
	}{
		{"empty log, from the start", 4, 0, 10, 0, nil, 1, 0},
		{"from the start", 4, 3, 10, 0, []uint64{1, 2, 3}, 4, 0},
		{"from a cursor", 4, 3, 10, 2, []uint64{2, 3}, 4, 0},
		{"caught up", 4, 3, 10, 4, nil, 4, 0},
		{"batch limit", 4, 4, 2, 1, []uint64{1, 2}, 3, 0},
		{"ring wrapped, cursor still buffered", 4, 6, 10, 4, []uint64{4, 5, 6}, 7, 0},
		{"ring wrapped, cursor lost", 4, 10, 10, 2, []uint64{7, 8, 9, 10}, 11, 5},
		{"ring wrapped, from the start", 4, 10, 10, 0, []uint64{7, 8, 9, 10}, 11, 6},
		{"cursor from an earlier agent", 4, 2, 10, 99, []uint64{1, 2}, 3, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newEventLog(tc.size)
			for range tc.added {
				l.add(speaker.Event{Peer: "p"})
			}
			b := l.collect(tc.since, tc.max)
			if got := seqs(b); !equalSeqs(got, tc.want) || b.Next != tc.next || b.Missed != tc.missed {
				t.Errorf("collect(%d) = %v next %d missed %d, want %v next %d missed %d",
					tc.since, got, b.Next, b.Missed, tc.want, tc.next, tc.missed)
			}
		})
	}
}

func equalSeqs(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestEventLogWait(t *testing.T) {
	t.Run("returns at once when events are buffered", func(t *testing.T) {
		l := newEventLog(4)
		l.add(speaker.Event{})
		if b := l.wait(context.Background(), 0, 10, time.Hour); len(b.Events) != 1 {
			t.Errorf("wait = %v, want the buffered event", seqs(b))
		}
	})
	t.Run("wakes on a new event", func(t *testing.T) {
		l := newEventLog(4)
		go func() {
			time.Sleep(50 * time.Millisecond)
			l.add(speaker.Event{Peer: "late"})
		}()
		b := l.wait(context.Background(), 1, 10, 10*time.Second)
		if len(b.Events) != 1 || b.Events[0].Peer != "late" || b.Next != 2 {
			t.Errorf("wait = %+v, want the late event and next 2", b)
		}
	})
	t.Run("times out empty", func(t *testing.T) {
		l := newEventLog(4)
		start := time.Now()
		b := l.wait(context.Background(), 1, 10, 50*time.Millisecond)
		if len(b.Events) != 0 || b.Next != 1 || time.Since(start) < 50*time.Millisecond {
			t.Errorf("wait = %+v after %v, want nothing after 50ms", b, time.Since(start))
		}
	})
	t.Run("close wakes waiters and drops later events", func(t *testing.T) {
		l := newEventLog(4)
		go func() {
			time.Sleep(50 * time.Millisecond)
			l.close()
		}()
		if b := l.wait(context.Background(), 1, 10, 10*time.Second); len(b.Events) != 0 {
			t.Errorf("wait after close = %v, want nothing", seqs(b))
		}
		l.add(speaker.Event{})
		if b := l.collect(0, 10); len(b.Events) != 0 {
			t.Errorf("event added after close was kept: %v", seqs(b))
		}
	})
	t.Run("context ends the wait", func(t *testing.T) {
		l := newEventLog(4)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		done := make(chan struct{})
		go func() { l.wait(ctx, 1, 10, time.Hour); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("wait ignored its context")
		}
	})
}
