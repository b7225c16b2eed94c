package speaker

import (
	"fmt"
	"slices"
	"sync"

	"go.uber.org/zap"
)

// dispatcher delivers events to subscribers from a single goroutine
// through an unbounded queue, so a slow subscriber delays only other
// subscribers, never GoBGP.
type dispatcher struct {
	log *zap.Logger

	mu      sync.Mutex
	queue   []Event
	subs    []subscriber // in subscription order
	nextID  uint64
	running bool
	stopped bool

	wake chan struct{} // buffered(1): queue is non-empty or stop requested
	done chan struct{} // closed when the goroutine has exited
}

// subscriber is one registered callback.
type subscriber struct {
	id uint64
	fn func(Event)
}

func newDispatcher(log *zap.Logger) *dispatcher {
	return &dispatcher{
		log:  log,
		wake: make(chan struct{}, 1),
		done: make(chan struct{}),
	}
}

// start launches the delivery goroutine once.
func (d *dispatcher) start() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.running || d.stopped {
		return
	}
	d.running = true
	go d.loop()
}

// stop ends the delivery goroutine, dropping undelivered events, and waits
// for it. It is idempotent.
func (d *dispatcher) stop() {
	d.mu.Lock()
	if d.stopped {
		d.mu.Unlock()
		return
	}
	d.stopped = true
	running := d.running
	d.queue = nil
	d.mu.Unlock()
	if !running {
		return
	}
	d.signal()
	<-d.done
}

// publish queues an event; it never blocks on subscribers.
func (d *dispatcher) publish(ev Event) {
	d.mu.Lock()
	if d.stopped {
		d.mu.Unlock()
		return
	}
	d.queue = append(d.queue, ev)
	d.mu.Unlock()
	d.signal()
}

func (d *dispatcher) signal() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// subscribe adds fn and returns its removal function.
func (d *dispatcher) subscribe(fn func(Event)) func() {
	d.mu.Lock()
	defer d.mu.Unlock()
	id := d.nextID
	d.nextID++
	d.subs = append(d.subs, subscriber{id: id, fn: fn})
	var once sync.Once
	return func() {
		once.Do(func() {
			d.mu.Lock()
			defer d.mu.Unlock()
			d.subs = slices.DeleteFunc(d.subs, func(s subscriber) bool { return s.id == id })
		})
	}
}

func (d *dispatcher) loop() {
	defer close(d.done)
	for range d.wake {
		for {
			d.mu.Lock()
			if d.stopped {
				d.mu.Unlock()
				return
			}
			if len(d.queue) == 0 {
				d.mu.Unlock()
				break
			}
			ev := d.queue[0]
			d.queue[0] = Event{}
			d.queue = d.queue[1:]
			subs := slices.Clone(d.subs)
			d.mu.Unlock()
			for _, sub := range subs {
				d.deliver(sub.fn, ev)
			}
		}
	}
}

// deliver calls one subscriber, keeping a panic in it from killing the
// speaker's delivery goroutine.
func (d *dispatcher) deliver(fn func(Event), ev Event) {
	defer func() {
		if r := recover(); r != nil {
			d.log.Error("event subscriber panicked", zap.String("panic", fmt.Sprint(r)))
		}
	}()
	fn(ev)
}
