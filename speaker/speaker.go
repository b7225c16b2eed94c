package speaker

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/osrg/gobgp/v4/api"
	"github.com/osrg/gobgp/v4/pkg/config/oc"
	"github.com/osrg/gobgp/v4/pkg/server"
	"go.uber.org/zap"
)

// Sentinel errors callers can test with errors.Is.
var (
	// ErrPeerNotFound means no neighbor is configured at the address.
	ErrPeerNotFound = errors.New("peer not found")
	// ErrNotStarted means the call needs a started speaker.
	ErrNotStarted = errors.New("speaker not started")
	// ErrClosed means the speaker has been closed.
	ErrClosed = errors.New("speaker closed")
)

// defaultBGPPort is used when Config.ListenPort or PeerConfig.Port is 0.
const defaultBGPPort = 179

// Speaker is one embedded BGP speaker backed by its own GoBGP server.
// Its methods are safe for concurrent use.
type Speaker struct {
	cfg   Config
	log   *zap.Logger
	bgp   *server.BgpServer
	names notificationNames

	// lifeMu guards the lifecycle fields below.
	lifeMu      sync.Mutex
	started     bool
	closed      bool
	watchCancel context.CancelFunc
	closeDone   chan struct{} // closed when the first Close has finished

	// peers tracks what GoBGP's events told us about each neighbor.
	peers *peerTracker
	// events fans state changes out to subscribers.
	events *dispatcher
}

// New validates cfg and creates the speaker's GoBGP server without
// starting it. The caller must Close the speaker.
func New(cfg Config) (*Speaker, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("speaker %q: %w", cfg.Name, err)
	}
	log := cfg.Logger
	if log == nil {
		log = zap.NewNop()
	}
	log = log.With(zap.String("speaker", cfg.Name))
	s := &Speaker{
		cfg:       cfg,
		log:       log,
		names:     newNotificationNames(),
		peers:     newPeerTracker(),
		events:    newDispatcher(log),
		closeDone: make(chan struct{}),
	}
	slogger, lvl := newGoBGPLogger(log, s.onSentNotification)
	s.bgp = server.NewBgpServer(server.LoggerOption(slogger, lvl))
	return s, nil
}

// validate checks a Config for values GoBGP would reject or misread.
func (c Config) validate() error {
	if c.ASN == 0 {
		return errors.New("asn: must not be 0")
	}
	if !c.RouterID.Is4() {
		return fmt.Errorf("router-id: %v is not an IPv4 address", c.RouterID)
	}
	if c.ListenPort > 65535 {
		return fmt.Errorf("listen-port: %d is out of range", c.ListenPort)
	}
	if c.ListenPort >= 0 && !c.ListenAddress.IsValid() {
		return errors.New("listen-address: required unless listen-port is negative")
	}
	for _, f := range c.Families {
		if _, err := apiFamily(f); err != nil {
			return err
		}
	}
	if c.ClusterID.IsValid() && !c.ClusterID.Is4() {
		return fmt.Errorf("cluster-id: %v is not an IPv4 address", c.ClusterID)
	}
	return nil
}

// Name returns the speaker's configured name.
func (s *Speaker) Name() string { return s.cfg.Name }

// Start serves the GoBGP server, starts BGP with the speaker's AS, router
// id and listener, and begins tracking peer state. It may be called once.
func (s *Speaker) Start(ctx context.Context) error {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	switch {
	case s.closed:
		return fmt.Errorf("start speaker %q: %w", s.cfg.Name, ErrClosed)
	case s.started:
		return fmt.Errorf("start speaker %q: already started", s.cfg.Name)
	}
	s.started = true
	go s.bgp.Serve()
	s.events.start()

	g := &api.Global{
		Asn:        s.cfg.ASN,
		RouterId:   s.cfg.RouterID.String(),
		ListenPort: s.listenPort(),
		Families:   globalFamilies(s.cfg.Families),
	}
	if s.cfg.ListenAddress.IsValid() {
		g.ListenAddresses = []string{s.cfg.ListenAddress.String()}
	}
	if err := s.bgp.StartBgp(ctx, &api.StartBgpRequest{Global: g}); err != nil {
		return fmt.Errorf("start speaker %q: start bgp on %v port %d: %w", s.cfg.Name, s.cfg.ListenAddress, g.ListenPort, err)
	}

	watchCtx, cancel := context.WithCancel(context.Background())
	s.watchCancel = cancel
	err := s.bgp.WatchEvent(watchCtx, server.WatchEventMessageCallbacks{
		OnPeerUpdate: s.onPeerUpdate,
	}, server.WatchPeer())
	if err != nil {
		return fmt.Errorf("start speaker %q: watch peer events: %w", s.cfg.Name, err)
	}
	s.log.Debug("speaker started",
		zap.Uint32("asn", s.cfg.ASN),
		zap.Stringer("router-id", s.cfg.RouterID),
		zap.Int32("listen-port", g.ListenPort))
	return nil
}

// listenPort maps Config.ListenPort onto GoBGP's convention: 179 for 0,
// -1 for "do not listen".
func (s *Speaker) listenPort() int32 {
	switch {
	case s.cfg.ListenPort < 0:
		return -1
	case s.cfg.ListenPort == 0:
		return defaultBGPPort
	default:
		return int32(s.cfg.ListenPort)
	}
}

// Close stops the GoBGP server, its sessions and listener, the event
// watcher and the subscriber goroutine. It is idempotent: later calls wait
// for the first to finish. Close waits for a subscriber callback in
// progress, so a subscriber must not call Close itself.
//
// GoBGP v4.8.0 itself leaves one goroutine behind for each session that
// still had UPDATEs queued when it stopped (it drains the queue without
// waiting for it); Close cannot reach that goroutine.
func (s *Speaker) Close() error {
	s.lifeMu.Lock()
	if s.closed {
		s.lifeMu.Unlock()
		<-s.closeDone
		return nil
	}
	s.closed = true
	started, cancel := s.started, s.watchCancel
	s.lifeMu.Unlock()
	// Not holding lifeMu from here on: a subscriber still running may call
	// the speaker's methods, which now fail fast with ErrClosed.
	defer close(s.closeDone)

	if cancel != nil {
		cancel()
	}
	var err error
	if !started {
		// GoBGP's Stop needs a serving server; serve it just long enough
		// to stop it, which also ends the goroutine NewBgpServer started.
		go s.bgp.Serve()
		if _, gerr := s.bgp.GetBgp(context.Background(), &api.GetBgpRequest{}); gerr != nil {
			err = fmt.Errorf("close speaker %q: %w", s.cfg.Name, gerr)
		}
	}
	s.bgp.Stop()
	s.events.stop()
	s.log.Debug("speaker closed")
	return err
}

// ready returns nil when the speaker is started and not closed.
func (s *Speaker) ready() error {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	switch {
	case s.closed:
		return ErrClosed
	case !s.started:
		return ErrNotStarted
	}
	return nil
}

// globalFamilies lists the families GoBGP builds RIB tables for: IPv4
// unicast unless the config names others. Each GoBGP table costs about
// 200 KB even when empty (2048 pre-allocated shards), and a speaker has two
// global tables plus one adj-RIB-in table per peer for each family, so
// families nobody uses are left out.
func globalFamilies(fams []Family) []uint32 {
	if len(fams) == 0 {
		fams = []Family{IPv4Unicast}
	}
	out := make([]uint32, 0, len(fams))
	seen := map[Family]bool{}
	for _, f := range fams {
		if seen[f] {
			continue
		}
		seen[f] = true
		switch f {
		case IPv4Unicast:
			out = append(out, uint32(oc.AfiSafiTypeToIntMap[oc.AFI_SAFI_TYPE_IPV4_UNICAST]))
		case IPv6Unicast:
			out = append(out, uint32(oc.AfiSafiTypeToIntMap[oc.AFI_SAFI_TYPE_IPV6_UNICAST]))
		}
	}
	return out
}
