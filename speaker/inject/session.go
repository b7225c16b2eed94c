package inject

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"go.uber.org/zap"
)

// State is a session's place in the BGP finite state machine, as far as
// the injector walks it.
type State string

// Session states (RFC 4271 section 8.2.2).
const (
	StateIdle        State = "Idle"
	StateConnect     State = "Connect"
	StateActive      State = "Active" // waiting for a passive peer's connection
	StateOpenSent    State = "OpenSent"
	StateOpenConfirm State = "OpenConfirm"
	StateEstablished State = "Established"
)

// openTimeout bounds the wait for the peer's OPEN and KEEPALIVE.
const openTimeout = 30 * time.Second

// writeBuffer is the socket write buffer of a session: large writes keep
// the peer's receive window full.
const writeBuffer = 256 << 10

// session is the injector's side of one peer.
type session struct {
	in   *Injector
	peer Peer
	log  *zap.Logger

	mu    sync.Mutex
	conn  net.Conn
	stats PeerStats
	// written is how many journal messages the connection has written.
	written int
}

// PeerStats is what a session did. Counters cover the current connection.
type PeerStats struct {
	Peer  netip.Addr
	State State
	// Established is when the session last reached Established.
	Established time.Time
	// Families negotiated with the peer.
	Families []string
	// HoldTime negotiated (0: no keepalives).
	HoldTime time.Duration
	// UpdatesSent and PrefixesSent count UPDATEs written to the socket and
	// the prefixes they announced or withdrew; BytesSent counts every
	// message written (UPDATEs, KEEPALIVEs, End-of-RIB).
	UpdatesSent, PrefixesSent, BytesSent int64
	// Synced is true when every message of the table so far is written.
	Synced bool
	// UpdatesReceived counts the peer's UPDATEs (dropped unread).
	UpdatesReceived int64
	// Connects counts connections that got as far as sending an OPEN.
	Connects int
	// LastError is why the last connection ended or failed, kept until
	// the session is Established again.
	LastError string
	// Notification is the NOTIFICATION that ended the last connection, if
	// one did; cleared like LastError.
	Notification *NotificationError
}

// newSession returns an idle session with p.
func newSession(in *Injector, p Peer) *session {
	s := &session{
		in:    in,
		peer:  p,
		log:   in.log.With(zap.Stringer("peer", p.Address)),
		stats: PeerStats{Peer: p.Address, State: StateIdle},
	}
	if p.Passive {
		s.stats.State = StateActive
	}
	return s
}

// dialLoop connects to the peer, serves the connection, and tries again
// every ConnectRetry until ctx ends.
func (s *session) dialLoop(ctx context.Context) {
	d := net.Dialer{
		LocalAddr: &net.TCPAddr{IP: s.in.cfg.Address.AsSlice()},
		Timeout:   5 * time.Second,
	}
	target := net.JoinHostPort(s.peer.Address.String(), strconv.Itoa(s.in.cfg.Port))
	for ctx.Err() == nil {
		s.setState(StateConnect)
		var conn net.Conn
		err := s.in.cfg.Do(func() error {
			var err error
			conn, err = d.DialContext(ctx, "tcp", target)
			return err
		})
		if err != nil {
			s.ended(err)
		} else {
			s.serveOne(ctx, conn)
		}
		select {
		case <-ctx.Done():
		case <-time.After(s.in.cfg.ConnectRetry):
		}
	}
}

// serveOne runs one connection until it fails or ctx ends. A second
// connection while one is up is refused (the first wins the collision).
func (s *session) serveOne(ctx context.Context, conn net.Conn) {
	s.mu.Lock()
	if s.conn != nil {
		s.mu.Unlock()
		conn.Close()
		return
	}
	s.conn = conn
	s.stats.Connects++
	s.mu.Unlock()
	err := s.run(ctx, conn)
	conn.Close()
	s.mu.Lock()
	s.conn = nil
	s.mu.Unlock()
	if ctx.Err() != nil {
		err = nil
	}
	s.ended(err)
}

// ended records why a connection ended and goes back to Idle.
func (s *session) ended(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stats.State == StateEstablished {
		s.log.Info("session down", zap.Error(err))
	}
	s.stats.State = StateIdle
	if s.peer.Passive {
		s.stats.State = StateActive
	}
	if err != nil {
		s.stats.LastError = err.Error()
		var ne *NotificationError
		if errors.As(err, &ne) {
			s.stats.Notification = ne
		}
	}
}

// closeConn closes the live connection, if any, so that run returns.
func (s *session) closeConn() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil {
		s.conn.Close()
	}
}

func (s *session) setState(st State) {
	s.mu.Lock()
	s.stats.State = st
	s.mu.Unlock()
}

// snapshot returns a copy of the session's counters.
func (s *session) snapshot() PeerStats {
	n, _, _ := s.in.journal.size()
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Synced = st.State == StateEstablished && s.written == n
	st.Families = append([]string(nil), st.Families...)
	return st
}

// run speaks BGP on conn: OPEN exchange, then the table and keepalives
// out, and the peer's messages in, until an error.
func (s *session) run(ctx context.Context, conn net.Conn) error {
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(writeBuffer)
		_ = tc.SetNoDelay(true)
	}
	r := bufio.NewReaderSize(conn, 64<<10)
	w := bufio.NewWriterSize(conn, 64<<10)
	neg, err := s.handshake(conn, r, w)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.written = 0
	s.stats = PeerStats{
		Peer: s.peer.Address, State: StateEstablished, Established: time.Now(),
		Families: neg.familyNames(), HoldTime: neg.hold, Connects: s.stats.Connects,
	}
	s.mu.Unlock()
	s.log.Info("session established", zap.Strings("families", neg.familyNames()), zap.Duration("hold", neg.hold))

	rd := &reader{done: make(chan struct{})}
	go func() {
		defer close(rd.done)
		rd.err = s.readLoop(conn, r, neg.hold)
	}()
	err = s.writeLoop(ctx, w, neg, rd)
	if ctx.Err() != nil {
		_ = writeNotification(w, 6, 2, nil) // Cease, Administrative Shutdown
	}
	conn.Close()
	<-rd.done
	if err == nil {
		err = rd.err
	}
	return err
}

// reader is the outcome of a session's read loop: err is set before done
// is closed.
type reader struct {
	done chan struct{}
	err  error
}

// writeLoop writes the journal from its start, End-of-RIB after the part
// present at Established, then whatever is appended, and KEEPALIVEs.
func (s *session) writeLoop(ctx context.Context, w *bufio.Writer, neg negotiated, rd *reader) error {
	var tick <-chan time.Time
	if neg.hold > 0 {
		t := time.NewTicker(neg.hold / 3)
		defer t.Stop()
		tick = t.C
	}
	eorAt, _, _ := s.in.journal.size()
	eorSent := false
	pos := 0
	for {
		msgs, grown := s.in.journal.from(pos)
		var updates, prefixes, bytes int64
		for i, m := range msgs {
			if pos+i == eorAt && !eorSent {
				if err := s.writeEndOfRIB(w, neg); err != nil {
					return err
				}
				eorSent = true
			}
			if !neg.families[m.fam] {
				continue
			}
			if _, err := w.Write(m.b); err != nil {
				return fmt.Errorf("write update: %w", err)
			}
			updates++
			prefixes += int64(m.prefixes)
			bytes += int64(len(m.b))
		}
		pos += len(msgs)
		if pos == eorAt && !eorSent {
			if err := s.writeEndOfRIB(w, neg); err != nil {
				return err
			}
			eorSent = true
		}
		if err := w.Flush(); err != nil {
			return fmt.Errorf("write update: %w", err)
		}
		s.mu.Lock()
		s.stats.UpdatesSent += updates
		s.stats.PrefixesSent += prefixes
		s.stats.BytesSent += bytes
		s.written = pos
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil
		case <-rd.done:
			if errors.Is(rd.err, errHoldExpired) {
				_ = writeNotification(w, 4, 0, nil)
			}
			return rd.err
		case <-grown:
		case <-tick:
			if _, err := w.Write(keepalive()); err != nil {
				return fmt.Errorf("write keepalive: %w", err)
			}
			if err := w.Flush(); err != nil {
				return fmt.Errorf("write keepalive: %w", err)
			}
			s.addBytes(headerLen)
		}
	}
}

// writeEndOfRIB writes the End-of-RIB marker of every negotiated family.
func (s *session) writeEndOfRIB(w *bufio.Writer, neg negotiated) error {
	for fam, ok := range neg.families {
		if !ok {
			continue
		}
		b := endOfRIB(family(fam))
		if _, err := w.Write(b); err != nil {
			return fmt.Errorf("write end-of-rib: %w", err)
		}
		s.addBytes(len(b))
	}
	return nil
}

func (s *session) addBytes(n int) {
	s.mu.Lock()
	s.stats.BytesSent += int64(n)
	s.mu.Unlock()
}

// readLoop reads the peer's messages until an error: UPDATEs are counted,
// a NOTIFICATION ends the session, silence longer than hold time too.
func (s *session) readLoop(conn net.Conn, r *bufio.Reader, hold time.Duration) error {
	for {
		if hold > 0 {
			_ = conn.SetReadDeadline(time.Now().Add(hold))
		}
		typ, body, err := readMessage(r)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return errHoldExpired
			}
			return err
		}
		switch typ {
		case msgUpdate:
			s.mu.Lock()
			s.stats.UpdatesReceived++
			s.mu.Unlock()
		case msgNotification:
			return notificationError(body, "received")
		}
	}
}
