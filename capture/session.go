package capture

import (
	"net/netip"
	"time"
)

// sessionKey is an unordered address pair, stored ordered (a < b).
type sessionKey struct{ a, b netip.Addr }

// sessionState builds one Session and tracks what gap detection and the
// UPDATE scanner need to know about the current connection.
type sessionState struct {
	out         Session
	defaultHold time.Duration
	synSeq      map[flowKey]uint32
	md5Seen     map[flowKey]bool
	// Per direction, indexed by dir(): the speaker's last endpoint, the
	// time of its last BGP message, its OPEN in the current connection.
	ep          [2]netip.AddrPort
	last        [2]time.Time
	open        [2]*OpenInfo
	established bool
	chunks      [][]Event
	count       int
	negotiated  time.Duration // -1 until a pair of OPENs was seen
	as4         int
	// pathIDs, per sending direction, are the families whose NLRI carry
	// ADD-PATH path identifiers in the current connection.
	pathIDs [2]pathIDFamilies
	// policy decides what is stored; runs sample the UPDATEs and
	// KEEPALIVEs of each direction; elided counts what runs dropped.
	policy *keepPolicy
	runs   [2]bulkRun
	elided int64
}

// flowKey is a directed TCP 4-tuple.
type flowKey struct{ from, to netip.AddrPort }

func newSessionState(a, b netip.Addr, hold time.Duration, policy *keepPolicy) *sessionState {
	return &sessionState{
		out:         Session{A: a, B: b},
		defaultHold: hold,
		negotiated:  -1,
		policy:      policy,
	}
}

// dir is 0 for messages sent by A, 1 for those sent by B.
func (s *sessionState) dir(from netip.Addr) int {
	if from == s.out.A {
		return 0
	}
	return 1
}

// eventChunk is the most events stored in one chunk. Chunks avoid
// re-copying a large slice of events as it grows; events() joins them once.
const eventChunk = 4096

// add records an event that is always kept: it hands it to OnEvent, ends
// the runs of sampled messages before it and stores it.
func (s *sessionState) add(ev Event) {
	ev = detached(ev)
	if s.policy.onEvent != nil {
		s.policy.onEvent(ev)
	}
	s.endRuns()
	s.store(ev)
}

// addBulk records an UPDATE or KEEPALIVE sent by direction i: every one
// reaches OnEvent, and the timeline keeps all or a sample of them.
func (s *sessionState) addBulk(i int, ev *Event) {
	if s.policy.onEvent != nil {
		s.policy.onEvent(detached(*ev))
	}
	if s.policy.all {
		s.store(detached(*ev))
		return
	}
	s.runs[i].push(ev, s.policy.sample, s.store)
}

// endRuns closes the sampled runs of both directions.
func (s *sessionState) endRuns() {
	for i := range s.runs {
		s.elided += s.runs[i].end(s.store)
	}
}

// store appends an event to the session's chunked event list.
func (s *sessionState) store(ev Event) {
	s.count++
	if n := len(s.chunks); n > 0 {
		last := &s.chunks[n-1]
		if len(*last) < cap(*last) || cap(*last) < eventChunk {
			*last = append(*last, ev) // a small first chunk grows by append
			return
		}
	}
	size := eventChunk
	if len(s.chunks) == 0 {
		size = 16
	}
	s.chunks = append(s.chunks, append(make([]Event, 0, size), ev))
}

// events ends the sampled runs and joins the stored chunks into one slice.
func (s *sessionState) events() []Event {
	s.endRuns()
	if len(s.chunks) == 1 {
		return s.chunks[0]
	}
	if len(s.chunks) == 0 {
		return []Event{}
	}
	out := make([]Event, 0, s.count)
	for _, c := range s.chunks {
		out = append(out, c...)
	}
	return out
}

// syn records a SYN or SYN-ACK, spotting retransmitted SYNs by sequence number.
func (s *sessionState) syn(from, to netip.AddrPort, seq uint32, ack, md5 bool, ts time.Time) {
	kind := KindSYNACK
	if !ack {
		kind = KindSYN
		if s.synSeq == nil {
			s.synSeq = map[flowKey]uint32{}
		}
		k := flowKey{from, to}
		if prev, ok := s.synSeq[k]; ok && prev == seq {
			kind = KindSYNRetransmit
		}
		s.synSeq[k] = seq
	}
	s.add(Event{Time: ts, From: from, To: to, Kind: kind, TCP: &TCPInfo{Seq: seq, MD5: md5}})
}

// md5 records the first segment of a flow carrying a TCP MD5 signature.
func (s *sessionState) md5(from, to netip.AddrPort, seq uint32, ts time.Time) {
	if s.md5Seen == nil {
		s.md5Seen = map[flowKey]bool{}
	}
	k := flowKey{from, to}
	if s.md5Seen[k] {
		return
	}
	s.md5Seen[k] = true
	s.add(Event{Time: ts, From: from, To: to, Kind: KindTCPMD5, TCP: &TCPInfo{Seq: seq, MD5: true}})
}

// finOrRST records a FIN or RST, which ends the connection for gap tracking.
func (s *sessionState) finOrRST(from, to netip.AddrPort, seq uint32, rst bool, ts time.Time) {
	kind := KindFIN
	if rst {
		kind = KindRST
	}
	s.closeConn(ts) // a gap it ends comes first
	s.add(Event{Time: ts, From: from, To: to, Kind: kind, TCP: &TCPInfo{Seq: seq}})
}

// holdTime is the hold time gap detection uses now; 0 disables it.
func (s *sessionState) holdTime() time.Duration {
	if s.negotiated >= 0 {
		return s.negotiated
	}
	return s.defaultHold
}

// holdSlack is how much earlier than the hold time a silence already
// counts as a gap: BIRD 1.6 keeps its timers in whole seconds and expires
// a hold timer up to a second early (a 3 s hold measured 2.9987 s on the
// wire), and keepalives come every hold/3, so a silence this long is never
// normal.
const holdSlack = time.Second

// gapAfter is the silence that makes a gap for a hold time: hold less
// holdSlack, and at least two thirds of it.
func gapAfter(hold time.Duration) time.Duration {
	return max(hold-holdSlack, hold*2/3)
}

// message records a decoded BGP message (or a malformed one).
func (s *sessionState) message(ev Event) {
	i := s.dir(ev.From.Addr())
	s.ep[i] = ev.From
	if s.established && !s.last[i].IsZero() {
		if hold := s.holdTime(); hold > 0 && ev.Time.Sub(s.last[i]) >= gapAfter(hold) {
			s.addGap(i, ev.Time)
		}
	}
	s.last[i] = ev.Time
	c := &s.out.Counts
	switch ev.Kind {
	case KindOpen:
		c.Open++
		if s.established {
			s.closeConn(ev.Time)
			s.last[i] = ev.Time
		}
		s.open[i] = ev.Open
		if o := s.open[1-i]; o != nil {
			s.negotiate(ev.Open, o)
			s.pathIDs[i] = negotiatePathIDs(ev.Open, o)
			s.pathIDs[1-i] = negotiatePathIDs(o, ev.Open)
		}
	case KindKeepalive:
		c.Keepalive++
		s.established = true
	case KindUpdate:
		c.Update++
		s.established = true
	case KindRouteRefresh:
		c.RouteRefresh++
		s.established = true
	case KindNotification:
		c.Notification++
		s.closeConn(ev.Time) // a gap it ends comes first
		s.add(ev)
		return
	case KindMalformed:
		c.Malformed++
	}
	if isBulk(&ev) {
		s.addBulk(i, &ev)
		return
	}
	s.add(ev)
}

// negotiate applies a pair of OPENs: hold time and 4-octet AS use.
func (s *sessionState) negotiate(x, y *OpenInfo) {
	h := min(x.HoldTime, y.HoldTime)
	s.negotiated = time.Duration(h) * time.Second
	s.out.HoldTime = h
	s.as4 = -1
	if x.AS4 != 0 && y.AS4 != 0 {
		s.as4 = 1
	}
}

// closeConn ends the current connection at tc: a direction silent for at
// least gapAfter(hold time) until then gets a gap event.
func (s *sessionState) closeConn(tc time.Time) {
	if s.established {
		if hold := s.holdTime(); hold > 0 {
			for i := range 2 {
				if !s.last[i].IsZero() && tc.Sub(s.last[i]) >= gapAfter(hold) {
					s.addGap(i, tc)
				}
			}
		}
	}
	s.established = false
	s.last = [2]time.Time{}
	s.open = [2]*OpenInfo{}
	s.pathIDs = [2]pathIDFamilies{}
}

// addGap records that direction i was silent from its last message until until.
func (s *sessionState) addGap(i int, until time.Time) {
	hold := s.holdTime()
	last := s.last[i]
	to := s.ep[1-i]
	if !to.IsValid() {
		to = netip.AddrPortFrom(s.peerAddr(i), 0)
	}
	at := last.Add(hold)
	if until.Before(at) {
		at = until // the peer gave up a little before the full hold time
	}
	s.add(Event{
		Time: at, From: s.ep[i], To: to, Kind: KindGap,
		Gap: &GapInfo{LastSeen: last, Silence: until.Sub(last), HoldTime: uint16(hold / time.Second), Until: until},
	})
}

// peerAddr is the address of the other side of direction i.
func (s *sessionState) peerAddr(i int) netip.Addr {
	if i == 0 {
		return s.out.B
	}
	return s.out.A
}
