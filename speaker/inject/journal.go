package inject

import "sync"

// journal is the injector's table: every message it ever packed, in
// order. Sessions read it from the start and follow it; it only grows.
type journal struct {
	mu       sync.Mutex
	msgs     []message
	bytes    int64
	prefixes int64
	// grown is closed (and replaced) whenever messages are appended.
	grown chan struct{}
}

func newJournal() *journal { return &journal{grown: make(chan struct{})} }

// append adds msgs at the end and wakes the readers.
func (j *journal) append(msgs []message) {
	if len(msgs) == 0 {
		return
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, m := range msgs {
		j.bytes += int64(len(m.b))
		j.prefixes += int64(m.prefixes)
	}
	j.msgs = append(j.msgs, msgs...)
	close(j.grown)
	j.grown = make(chan struct{})
}

// from returns the messages from position i on and a channel closed
// when more arrive. The returned slice is never modified afterwards.
func (j *journal) from(i int) ([]message, <-chan struct{}) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.msgs[i:len(j.msgs):len(j.msgs)], j.grown
}

// size returns the number of messages, their bytes and the prefixes
// they carry.
func (j *journal) size() (msgs int, bytes, prefixes int64) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.msgs), j.bytes, j.prefixes
}
