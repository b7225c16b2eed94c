package agent

import (
	"context"
	"sync"
	"time"

	"github.com/peerlab/peerlab/speaker"
)

// eventLog keeps the latest events in a ring and lets readers wait for new
// ones (long polling).
type eventLog struct {
	mu    sync.Mutex
	ring  []Event // fixed size; holds seqs next-count .. next-1
	start int     // index of the oldest event
	count int
	next  uint64 // seq the next event gets
	// changed is closed and replaced whenever an event arrives or the log
	// closes, waking every waiter.
	changed chan struct{}
	closed  bool
}

func newEventLog(size int) *eventLog {
	return &eventLog{ring: make([]Event, size), next: 1, changed: make(chan struct{})}
}

// add appends e, dropping the oldest event when the ring is full.
func (l *eventLog) add(e speaker.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	ev := Event{Seq: l.next, Event: e}
	l.next++
	if l.count < len(l.ring) {
		l.ring[(l.start+l.count)%len(l.ring)] = ev
		l.count++
	} else {
		l.ring[l.start] = ev
		l.start = (l.start + 1) % len(l.ring)
	}
	close(l.changed)
	l.changed = make(chan struct{})
}

// close wakes every waiter for good; later adds are dropped.
func (l *eventLog) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed {
		l.closed = true
		close(l.changed)
	}
}

// collect returns up to max events from seq since on. Callers hold mu.
func (l *eventLog) collect(since uint64, max int) EventBatch {
	oldest := l.next - uint64(l.count)
	if since > l.next {
		// A cursor from an earlier agent on the same socket: start over.
		since = oldest
	}
	var b EventBatch
	if since < oldest {
		if since > 0 {
			b.Missed = oldest - since
		} else if oldest > 1 {
			b.Missed = oldest - 1
		}
		since = oldest
	}
	n := min(int(l.next-since), max)
	if n > 0 {
		b.Events = make([]Event, 0, n)
		first := l.start + int(since-oldest)
		for i := range n {
			b.Events = append(b.Events, l.ring[(first+i)%len(l.ring)])
		}
	}
	b.Next = since + uint64(n)
	return b
}

// wait returns the events from since on, waiting up to maxWait for the
// first one when there are none yet. It returns early, possibly empty,
// when ctx ends or the log closes.
func (l *eventLog) wait(ctx context.Context, since uint64, max int, maxWait time.Duration) EventBatch {
	timer := time.NewTimer(maxWait)
	defer timer.Stop()
	for {
		l.mu.Lock()
		b := l.collect(since, max)
		changed, closed := l.changed, l.closed
		l.mu.Unlock()
		if len(b.Events) > 0 || b.Missed > 0 || closed {
			return b
		}
		select {
		case <-changed:
		case <-timer.C:
			return b
		case <-ctx.Done():
			return b
		}
	}
}
