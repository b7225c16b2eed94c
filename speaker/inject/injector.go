package inject

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/peerlab/peerlab/speaker"
)

// Defaults of Config and Peer.
const (
	DefaultPort         = 179
	DefaultHoldTime     = 90 * time.Second
	DefaultConnectRetry = time.Second
)

// Config describes an injector: one local speaker and its peers.
type Config struct {
	// Address is the local address sessions are made from, and the
	// passive peers' listening address. It is also the IPv4 next hop of
	// routes that name none.
	Address netip.Addr
	// AS is the local AS number.
	AS uint32
	// RouterID defaults to Address (IPv4) and must be IPv4.
	RouterID netip.Addr
	// NextHop6 is the next hop of IPv6 routes that name none; zero means
	// Address (IPv4-mapped when it is IPv4, as GoBGP sends it).
	NextHop6 netip.Addr
	// Port is the TCP port peers are dialled on and passive peers are
	// awaited on; 0 means 179.
	Port int
	// HoldTime offered in OPEN; 0 means 90 s, negative offers 0 (no
	// keepalives). The session uses the lower of both ends' offers.
	HoldTime time.Duration
	// ConnectRetry is the pause between connection attempts of active
	// peers; 0 means 1 s.
	ConnectRetry time.Duration
	// Peers are the sessions. They must all be eBGP or all iBGP: the
	// table is packed once, with one encoding.
	Peers []Peer
	// MaxJournal bounds the bytes of packed UPDATEs the injector keeps to
	// replay to new sessions (it keeps every batch ever packed); a batch
	// that would pass it is refused with ErrJournalFull. 0 means
	// DefaultMaxJournal.
	MaxJournal int64
	// Logger receives session events; nil means none.
	Logger *zap.Logger
	// Do runs fn where the injector's sockets must be made (for example
	// on a thread switched into a network namespace); nil runs fn as is.
	Do func(fn func() error) error
}

// Peer is one session of the injector.
type Peer struct {
	// Address is the peer's address.
	Address netip.Addr
	// AS is the AS the peer must announce in its OPEN.
	AS uint32
	// Passive waits for the peer to connect instead of dialling it.
	Passive bool
}

// Injector is a running injector. Its methods are safe for concurrent use.
type Injector struct {
	cfg     Config
	log     *zap.Logger
	enc     encoding
	journal *journal

	packMu sync.Mutex // one packing at a time keeps batches in order

	startMu  sync.Mutex
	cancel   context.CancelFunc // nil until Start
	wg       sync.WaitGroup
	listener net.Listener
	sessions []*session
}

// New checks cfg and returns an injector with an empty table and no
// session yet: Load its table, then Start it. Close stops it.
func New(cfg Config) (*Injector, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	in := &Injector{
		cfg:     cfg,
		log:     cfg.Logger,
		journal: newJournal(),
		enc: encoding{
			localAS:  cfg.AS,
			ebgp:     cfg.Peers[0].AS != cfg.AS,
			nextHop4: cfg.Address,
			nextHop6: cfg.NextHop6,
		},
	}
	for _, p := range cfg.Peers {
		in.sessions = append(in.sessions, newSession(in, p))
	}
	return in, nil
}

// Start starts the sessions: active peers are dialled at once and again
// every ConnectRetry after a failure; passive peers are awaited on
// Address:Port. Sockets are made through Config.Do. It returns once the
// listener (if any) is bound; Close stops everything.
func (in *Injector) Start() error {
	in.startMu.Lock()
	defer in.startMu.Unlock()
	if in.cancel != nil {
		return errors.New("injector: already started")
	}
	ctx, cancel := context.WithCancel(context.Background())
	passive := false
	for _, p := range in.cfg.Peers {
		passive = passive || p.Passive
	}
	if passive {
		var ln net.Listener
		err := in.cfg.Do(func() error {
			var err error
			ln, err = net.Listen("tcp", net.JoinHostPort(in.cfg.Address.String(), strconv.Itoa(in.cfg.Port)))
			return err
		})
		if err != nil {
			cancel()
			return fmt.Errorf("injector listen: %w", err)
		}
		in.listener = ln
		in.wg.Add(1)
		go func() {
			defer in.wg.Done()
			in.accept(ctx, ln)
		}()
	}
	in.cancel = cancel
	for _, s := range in.sessions {
		if s.peer.Passive {
			continue
		}
		in.wg.Add(1)
		go func() {
			defer in.wg.Done()
			s.dialLoop(ctx)
		}()
	}
	return nil
}

// defaults fills cfg's zero fields and reports the first problem.
func (cfg *Config) defaults() error {
	if !cfg.Address.IsValid() {
		return errors.New("injector: address is required")
	}
	if cfg.AS == 0 {
		return errors.New("injector: as is required")
	}
	if !cfg.RouterID.IsValid() {
		cfg.RouterID = cfg.Address
	}
	if !cfg.RouterID.Is4() {
		return fmt.Errorf("injector: router id %s is not an IPv4 address", cfg.RouterID)
	}
	if !cfg.NextHop6.IsValid() {
		cfg.NextHop6 = cfg.Address
	}
	if cfg.Port == 0 {
		cfg.Port = DefaultPort
	}
	if cfg.HoldTime == 0 {
		cfg.HoldTime = DefaultHoldTime
	}
	if cfg.HoldTime > 0 && cfg.HoldTime < 3*time.Second || cfg.HoldTime > 65535*time.Second {
		return fmt.Errorf("injector: hold time %s: want 0 or 3s..65535s", cfg.HoldTime)
	}
	if cfg.ConnectRetry == 0 {
		cfg.ConnectRetry = DefaultConnectRetry
	}
	if cfg.MaxJournal == 0 {
		cfg.MaxJournal = DefaultMaxJournal
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.Do == nil {
		cfg.Do = func(fn func() error) error { return fn() }
	}
	if len(cfg.Peers) == 0 {
		return errors.New("injector: no peers")
	}
	seen := map[netip.Addr]bool{}
	for i, p := range cfg.Peers {
		if !p.Address.IsValid() || p.AS == 0 {
			return fmt.Errorf("injector: peers[%d]: address and as are required", i)
		}
		if seen[p.Address] {
			return fmt.Errorf("injector: peers[%d]: %s is listed twice", i, p.Address)
		}
		seen[p.Address] = true
		if (p.AS == cfg.AS) != (cfg.Peers[0].AS == cfg.AS) {
			return fmt.Errorf("injector: peers[%d]: %s mixes iBGP and eBGP peers; the table is packed for one kind", i, p.Address)
		}
	}
	return nil
}

// Source yields routes one at a time: a generator's Each, or a reader of
// an MRT dump. It stops at the first error yield returns.
type Source func(yield func(speaker.Route) error) error

// Load packs the routes of src into the table and hands them to every
// established session. Routes of one Load that share their attributes
// share UPDATEs; a source should name each prefix once (which of two
// announcements of a prefix in one Load wins is unspecified). Call Load
// before the sessions come up to have them start with the whole table.
func (in *Injector) Load(src Source) error {
	return in.pack(func(p *packer) error { return src(p.announce) })
}

// Announce packs routes as one batch: they leave in as few UPDATEs as
// their attributes allow. When a prefix appears more than once the last
// one wins. Batch live routes: one route per call means one UPDATE each.
func (in *Injector) Announce(routes []speaker.Route) error {
	last := make(map[netip.Prefix]int, len(routes))
	for i, r := range routes {
		last[r.Prefix.Masked()] = i
	}
	return in.pack(func(p *packer) error {
		for i, r := range routes {
			if last[r.Prefix.Masked()] != i {
				continue
			}
			if err := p.announce(r); err != nil {
				return err
			}
		}
		return nil
	})
}

// Withdraw withdraws prefixes, packed into as few UPDATEs as they fit.
func (in *Injector) Withdraw(prefixes []netip.Prefix) error {
	return in.pack(func(p *packer) error {
		for _, pfx := range prefixes {
			if err := p.withdraw(pfx); err != nil {
				return err
			}
		}
		return nil
	})
}

// WithdrawSource withdraws every prefix src yields (for example the
// source an earlier Load announced).
func (in *Injector) WithdrawSource(src Source) error {
	return in.pack(func(p *packer) error {
		return src(func(r speaker.Route) error { return p.withdraw(r.Prefix) })
	})
}

// pack runs fill on a fresh packer and appends what it packed to the
// journal in one piece. Nothing is appended when fill fails.
func (in *Injector) pack(fill func(*packer) error) error {
	in.packMu.Lock()
	defer in.packMu.Unlock()
	var out []message
	p := newPacker(in.enc, MaxMessage, func(m message) { out = append(out, m) })
	if err := fill(p); err != nil {
		return fmt.Errorf("pack routes: %w", err)
	}
	p.flush()
	var size int64
	for _, m := range out {
		size += int64(len(m.b))
	}
	if _, have, _ := in.journal.size(); have+size > in.cfg.MaxJournal {
		return fmt.Errorf("%w: %d bytes kept, this batch adds %d, the limit is %d (every batch is kept to replay to new sessions: start a new injector to begin afresh)",
			ErrJournalFull, have, size, in.cfg.MaxJournal)
	}
	in.journal.append(out)
	return nil
}

// DefaultMaxJournal is the default Config.MaxJournal: a million /24s pack
// into about 4 MiB, so this keeps a few hundred full tables of churn.
const DefaultMaxJournal = 1 << 30

// ErrJournalFull is returned by Load, Announce and Withdraw when the batch
// would grow the journal past Config.MaxJournal.
var ErrJournalFull = errors.New("injector journal full")

// closeGrace is how long Close lets sessions send their Cease and end
// before it closes their connections under them.
const closeGrace = time.Second

// Close stops every session, sending a Cease NOTIFICATION (Administrative
// Shutdown) on established ones, and waits for them. A session still in
// its OPEN exchange, or whose peer stopped reading, is cut after a second.
func (in *Injector) Close() error {
	in.startMu.Lock()
	defer in.startMu.Unlock()
	if in.cancel == nil {
		return nil
	}
	in.cancel()
	if in.listener != nil {
		in.listener.Close()
	}
	done := make(chan struct{})
	go func() {
		in.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(closeGrace):
		for _, s := range in.sessions {
			s.closeConn()
		}
		<-done
	}
	return nil
}

// sessionFor returns the session of a peer address, nil if none.
func (in *Injector) sessionFor(a netip.Addr) *session {
	for _, s := range in.sessions {
		if s.peer.Address == a.Unmap() {
			return s
		}
	}
	return nil
}

// accept serves passive peers' connections until ctx ends.
func (in *Injector) accept(ctx context.Context, ln net.Listener) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() == nil {
				in.log.Warn("accept", zap.Error(err))
			}
			return
		}
		ap, _ := netip.ParseAddrPort(conn.RemoteAddr().String())
		s := in.sessionFor(ap.Addr())
		if s == nil || !s.peer.Passive {
			in.log.Info("connection from an unknown peer refused", zap.Stringer("from", ap))
			conn.Close()
			continue
		}
		in.wg.Add(1)
		go func() {
			defer in.wg.Done()
			s.serveOne(ctx, conn)
		}()
	}
}

// Stats reports every session, in the order of Config.Peers.
func (in *Injector) Stats() []PeerStats {
	out := make([]PeerStats, len(in.sessions))
	for i, s := range in.sessions {
		out[i] = s.snapshot()
	}
	return out
}

// TableStats describes the packed table.
type TableStats struct {
	// Updates, Bytes and Prefixes count every message packed so far
	// (announcements and withdrawals), as they go on the wire.
	Updates  int
	Bytes    int64
	Prefixes int64
}

// Table reports the size of the packed table.
func (in *Injector) Table() TableStats {
	n, b, p := in.journal.size()
	return TableStats{Updates: n, Bytes: b, Prefixes: p}
}

// WaitSynced waits until every peer is Established and has been written
// the whole table as it stands, or ctx ends.
func (in *Injector) WaitSynced(ctx context.Context) error {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		all := true
		for _, st := range in.Stats() {
			all = all && st.State == StateEstablished && st.Synced
		}
		if all {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for peers to take the table: %w", ctx.Err())
		case <-t.C:
		}
	}
}
