package capture

import "net/netip"

// DefaultSample is how many UPDATE and KEEPALIVE messages a timeline keeps
// at each end of a run unless DecodeOptions.Sample says otherwise.
const DefaultSample = 10

// keepPolicy decides which decoded events a session stores.
type keepPolicy struct {
	// sample is how many bulk messages are kept at each end of a run.
	sample int
	// all stores every event.
	all bool
	// onEvent receives every event as it is decoded; nil when unset.
	onEvent func(Event)
}

// newKeepPolicy derives the policy from the decode options.
func newKeepPolicy(opts DecodeOptions) *keepPolicy {
	p := &keepPolicy{sample: opts.Sample, all: opts.AllEvents, onEvent: opts.OnEvent}
	switch {
	case opts.OnEvent != nil:
		p.sample = 0 // the caller sees every message; keep counts only
	case p.sample <= 0:
		p.sample = DefaultSample
	}
	return p
}

// isBulk reports whether ev is a message the timeline may elide: an
// UPDATE that is not an End-of-RIB, or a KEEPALIVE.
func isBulk(ev *Event) bool {
	switch ev.Kind {
	case KindKeepalive:
		return true
	case KindUpdate:
		return ev.Update == nil || !ev.Update.EndOfRIB
	}
	return false
}

// ringSlot is one held-back message with room for its UPDATE detail, so
// that holding it costs no allocation.
type ringSlot struct {
	ev  Event
	blk updateInfoBlock
}

// bulkRun samples the UPDATE and KEEPALIVE messages one speaker sends
// between two stored events: it stores the first messages at once, holds
// the last ones in a ring and counts the ones in between.
type bulkRun struct {
	head   int // messages stored from the start of the run
	ring   []ringSlot
	next   int // ring index of the oldest held message once the ring is full
	held   int
	elided ElidedInfo
	// from and to are the endpoints of the last elided message.
	from, to netip.AddrPort
}

// push takes one bulk message of the run. store keeps an event.
func (r *bulkRun) push(ev *Event, sample int, store func(Event)) {
	if r.head < sample {
		r.head++
		store(detached(*ev))
		return
	}
	if sample == 0 {
		r.elide(ev)
		return
	}
	if r.ring == nil {
		r.ring = make([]ringSlot, sample)
	}
	if r.held < sample {
		r.ring[r.held].hold(ev)
		r.held++
		return
	}
	r.elide(&r.ring[r.next].ev)
	r.ring[r.next].hold(ev)
	r.next = (r.next + 1) % sample
}

// hold copies ev into the slot, UPDATE detail included.
func (s *ringSlot) hold(ev *Event) {
	s.ev = *ev
	if ev.Update != nil {
		s.blk.copyFrom(ev.Update)
		s.ev.Update = &s.blk.info
	}
}

// elide counts ev into the run's elided summary.
func (r *bulkRun) elide(ev *Event) {
	e := &r.elided
	if e.Messages == 0 {
		e.First = ev.Time
	}
	e.Messages++
	e.Last = ev.Time
	if ev.Kind == KindKeepalive {
		e.Keepalives++
	} else {
		e.Updates++
		if u := ev.Update; u != nil {
			e.Announced += int64(u.Announced)
			e.Withdrawn += int64(u.Withdrawn)
		}
	}
	r.from, r.to = ev.From, ev.To
}

// end closes the run: it stores the elided event, if any, then the held
// messages in order, and returns the number of messages elided.
func (r *bulkRun) end(store func(Event)) int64 {
	n := r.elided.Messages
	if n > 0 {
		info := r.elided
		store(Event{Time: info.First, From: r.from, To: r.to, Kind: KindElided, Elided: &info})
	}
	for i := range r.held {
		s := &r.ring[(r.next+i)%len(r.ring)]
		store(detached(s.ev))
		s.ev = Event{}
	}
	r.head, r.held, r.next, r.elided = 0, 0, 0, ElidedInfo{}
	return n
}

// detached returns ev with its UPDATE detail copied to a fresh block, so
// the event no longer aliases the decoder's scratch space or a ring slot.
func detached(ev Event) Event {
	if ev.Update != nil {
		blk := &updateInfoBlock{}
		blk.copyFrom(ev.Update)
		ev.Update = &blk.info
	}
	return ev
}

// copyFrom sets the block to a copy of u whose prefix slices use the
// block's own arrays. The AS path, communities and cluster list are
// shared: the scanner never mutates them after an UPDATE is decoded.
func (b *updateInfoBlock) copyFrom(u *UpdateInfo) {
	b.info = *u
	if u.FirstAnnounced != nil {
		n := copy(b.ann[:], u.FirstAnnounced)
		b.info.FirstAnnounced = b.ann[:n:n]
	}
	if u.FirstWithdrawn != nil {
		n := copy(b.wd[:], u.FirstWithdrawn)
		b.info.FirstWithdrawn = b.wd[:n:n]
	}
}
