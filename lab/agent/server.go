package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/rpc"
	"net/rpc/jsonrpc"
	"sync"

	"go.uber.org/zap"

	"github.com/peerlab/peerlab/speaker"
)

// Serve answers the agent protocol on every connection ln accepts, hosting
// one speaker that the Start call creates. It returns nil after a Close
// call has been answered or when ctx ends; either way it closes ln, every
// connection and the speaker first. It returns an error when ln fails.
func Serve(ctx context.Context, ln net.Listener, log *zap.Logger) error {
	if log == nil {
		log = zap.NewNop()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s := &server{base: ctx, log: log, events: newEventLog(EventBufferSize), quit: make(chan struct{})}
	rs := rpc.NewServer()
	if err := rs.RegisterName(ServiceName, &service{s: s}); err != nil {
		return fmt.Errorf("agent: register service: %w", err)
	}

	var (
		mu    sync.Mutex
		conns = map[net.Conn]bool{}
		wg    sync.WaitGroup
	)
	acceptErr := make(chan error, 1)
	acceptDone := make(chan struct{})
	go func() {
		defer close(acceptDone)
		for {
			c, err := ln.Accept()
			if err != nil {
				acceptErr <- err
				return
			}
			mu.Lock()
			conns[c] = true
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				rs.ServeCodec(&codec{ServerCodec: jsonrpc.NewServerCodec(c), s: s})
				mu.Lock()
				delete(conns, c)
				mu.Unlock()
			}()
		}
	}()

	var err error
	select {
	case <-ctx.Done():
		log.Debug("agent stopping: context ended")
	case <-s.quit:
		log.Debug("agent stopping: closed by client")
	case aerr := <-acceptErr:
		err = fmt.Errorf("agent: accept on %s: %w", ln.Addr(), aerr)
	}
	_ = ln.Close()
	<-acceptDone
	cerr := s.closeSpeaker()
	cancel() // ends speaker calls in progress
	mu.Lock()
	for c := range conns {
		_ = c.Close()
	}
	mu.Unlock()
	wg.Wait()
	if cerr != nil {
		cerr = fmt.Errorf("agent: %w", cerr)
	}
	return errors.Join(err, cerr)
}

// server is the state behind one Serve call.
type server struct {
	base   context.Context
	log    *zap.Logger
	events *eventLog

	mu     sync.Mutex
	sp     *speaker.Speaker
	closed bool

	quit     chan struct{} // closed once Close has been answered
	quitOnce sync.Once
}

// speaker returns the started speaker.
func (s *server) speaker() (*speaker.Speaker, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return nil, speaker.ErrClosed
	case s.sp == nil:
		return nil, speaker.ErrNotStarted
	}
	return s.sp, nil
}

// start creates and starts the speaker. A failed start leaves no speaker,
// so Start may be called again.
func (s *server) start(cfg StartConfig) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return speaker.ErrClosed
	case s.sp != nil:
		return fmt.Errorf("speaker %q already started", s.sp.Name())
	}
	sp, err := speaker.New(cfg.speakerConfig(s.log))
	if err != nil {
		return err
	}
	sp.Subscribe(s.events.add)
	if err := sp.Start(s.base); err != nil {
		if cerr := sp.Close(); cerr != nil {
			s.log.Warn("close speaker after failed start", zap.Error(cerr))
		}
		return err
	}
	s.sp = sp
	s.log.Info("speaker started", zap.String("name", cfg.Name), zap.Uint32("asn", cfg.ASN),
		zap.Stringer("listen", netip.AddrPortFrom(cfg.ListenAddress, uint16(max(cfg.ListenPort, 0)))))
	return nil
}

// restart closes the running speaker and starts a new one from cfg, for
// settings GoBGP fixes at start (the router id). The event log carries on,
// so a client's event pump sees the old speaker's sessions go down and the
// new one's come up. The new speaker has no peers and no routes: the
// client configures them again. When the new speaker fails to start, the
// agent is left without one and Start may be called again.
func (s *server) restart(cfg StartConfig) error {
	s.mu.Lock()
	old := s.sp
	switch {
	case s.closed:
		s.mu.Unlock()
		return speaker.ErrClosed
	case old == nil:
		s.mu.Unlock()
		return speaker.ErrNotStarted
	}
	s.sp = nil
	s.mu.Unlock()
	if err := old.Close(); err != nil {
		s.log.Warn("close speaker for restart", zap.Error(err))
	}
	return s.start(cfg)
}

// closeSpeaker closes the speaker (if any) and the event log; later calls
// do nothing.
func (s *server) closeSpeaker() error {
	s.mu.Lock()
	sp, was := s.sp, s.closed
	s.closed = true
	s.mu.Unlock()
	if was {
		return nil
	}
	defer s.events.close()
	if sp == nil {
		return nil
	}
	if err := sp.Close(); err != nil {
		return fmt.Errorf("close speaker: %w", err)
	}
	s.log.Info("speaker closed")
	return nil
}

// codec makes Serve stop once the reply to a Close call is on its way.
type codec struct {
	rpc.ServerCodec
	s *server
}

// WriteResponse writes r and, for Close, tells Serve to stop.
func (c *codec) WriteResponse(r *rpc.Response, body any) error {
	err := c.ServerCodec.WriteResponse(r, body)
	if r.ServiceMethod == ServiceName+".Close" {
		c.s.quitOnce.Do(func() { close(c.s.quit) })
	}
	return err
}
