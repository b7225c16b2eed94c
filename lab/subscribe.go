package lab

// subscribers are the channels told when the lab records a session event.
type subscribers struct {
	next int
	chs  map[int]chan struct{}
}

// Subscribe returns a channel that receives a value after the lab records
// a session state change (Events grew), and a function that ends the
// subscription. The channel holds one pending wake-up: the lab never blocks
// on a slow subscriber, it only coalesces wake-ups, so a subscriber reads
// Events (and FaultLog) again each time it wakes.
func (l *Lab) Subscribe() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	l.mu.Lock()
	if l.subs.chs == nil {
		l.subs.chs = map[int]chan struct{}{}
	}
	id := l.subs.next
	l.subs.next++
	l.subs.chs[id] = ch
	l.mu.Unlock()
	return ch, func() {
		l.mu.Lock()
		delete(l.subs.chs, id)
		l.mu.Unlock()
	}
}

// notifyLocked wakes every subscriber without blocking; l.mu is held.
func (l *Lab) notifyLocked() {
	for _, ch := range l.subs.chs {
		select {
		case ch <- struct{}{}:
		default: // a wake-up is already pending
		}
	}
}
