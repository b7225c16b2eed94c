package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"syscall"

	"go.uber.org/zap"

	"github.com/peerlab/peerlab/internal/bird"
	"github.com/peerlab/peerlab/lab/topology"
)

// Process faults act on a BIRD node's daemon rather than on its
// configuration or its network. docs/faults.md says what each one looks
// like from the node and from its peers.

// injectProcessFault applies a process fault to a BIRD node.
func (b *birdNode) injectProcessFault(ctx context.Context, f *topology.Fault) (HealFunc, error) {
	switch f.Name {
	case "hold-timer-expiry":
		return b.freeze()
	case "bird-down":
		return b.birdDown()
	case "bird-unconfigured":
		return b.unconfigure(ctx)
	case "port179-in-use":
		return b.squatPort(ctx)
	}
	return nil, fmt.Errorf("%s on BIRD node %s: %w", f.Name, f.Node, ErrFaultUnsupported)
}

// freeze stops the daemon with SIGSTOP: its sessions stay open but it
// sends nothing, so each peer's hold timer expires. Heal continues it
// with SIGCONT. The whole daemon freezes, so a fault with a peer still
// silences every session of the node. While it is frozen the node's
// control socket commands (Sessions, HasRoute) fail at once.
func (b *birdNode) freeze() (HealFunc, error) {
	// Under the lock no command is half way through: none can be left
	// waiting on the frozen socket with the lock held.
	b.mu.Lock()
	d := b.daemon
	if d == nil {
		b.mu.Unlock()
		return nil, fmt.Errorf("node %s: %s is not running", b.spec.Node.Name, b.version)
	}
	pid := d.Pid()
	b.frozen.Store(true)
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		b.frozen.Store(false)
		b.mu.Unlock()
		return nil, fmt.Errorf("SIGSTOP %s (pid %d) of node %s: %w", b.version, pid, b.spec.Node.Name, err)
	}
	b.mu.Unlock()
	b.log.Info("bird frozen", zap.Int("pid", pid))
	return func(context.Context) error {
		defer b.frozen.Store(false)
		select {
		case <-d.Done():
			return nil // stopped or restarted meanwhile: nothing to continue
		default:
		}
		if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
			return fmt.Errorf("SIGCONT %s (pid %d) of node %s: %w", b.version, pid, b.spec.Node.Name, err)
		}
		b.log.Info("bird continued", zap.Int("pid", pid))
		return nil
	}, nil
}

// errFrozen is what control socket commands return while the daemon is
// frozen.
func (b *birdNode) errFrozen() error {
	return fmt.Errorf("node %s: %s is frozen (SIGSTOP by hold-timer-expiry)", b.spec.Node.Name, b.version)
}

// birdDown stops the daemon; heal starts it again on the same
// configuration file.
func (b *birdNode) birdDown() (HealFunc, error) {
	if err := b.stopDaemon(); err != nil {
		return nil, err
	}
	return func(ctx context.Context) error { return b.launch(ctx, os.O_APPEND) }, nil
}

// stopDaemon stops bird (SIGTERM: BIRD sends each established peer a
// Cease NOTIFICATION on its way out) but leaves the node usable: launch
// starts it again.
func (b *birdNode) stopDaemon() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.client != nil {
		_ = b.client.Close()
		b.client = nil
	}
	if b.daemon == nil {
		return fmt.Errorf("node %s: %s is not running", b.spec.Node.Name, b.version)
	}
	_ = syscall.Kill(b.daemon.Pid(), syscall.SIGCONT) // in case it is frozen
	b.frozen.Store(false)
	err := b.daemon.Stop()
	b.daemon = nil
	if err != nil {
		return fmt.Errorf("stop %s of node %s: %w", b.version, b.spec.Node.Name, err)
	}
	return nil
}

// restartDaemon stops bird and starts it again on the file it has.
func (b *birdNode) restartDaemon(ctx context.Context) error {
	if err := b.stopDaemon(); err != nil {
		return err
	}
	return b.launch(ctx, os.O_APPEND)
}

// unconfigure plays a calico-node that never rendered its peers (it could
// not reach the API server): BIRD keeps running on a configuration with
// the same router id, filters and prefixes but no BGP protocol, so it
// removes its sessions (Cease "Peer de-configured" to established peers)
// and, having no BGP protocol, listens on no BGP port. It is an overlay
// like the config faults' (kind_bird_faults_config.go), so it composes
// with them; heal takes it off and reconfigures.
func (b *birdNode) unconfigure(ctx context.Context) (HealFunc, error) {
	return b.overlay(ctx, birdOverlay{fn: func(c *bird.Config) { c.Peers = nil }})
}

// squatPort plays another daemon holding the BGP port in the node's
// namespace: bird is stopped, a listener takes the port, and bird starts
// again and cannot open its own listening socket. The squatter accepts
// connections, reads and discards what arrives and never answers, as a
// service that is not BGP would. Heal closes the squatter and restarts
// bird.
func (b *birdNode) squatPort(ctx context.Context) (HealFunc, error) {
	if err := b.stopDaemon(); err != nil {
		return nil, err
	}
	var ln net.Listener
	addr := net.JoinHostPort("", strconv.Itoa(b.spec.Port))
	err := b.spec.Namespace.Do(func() error {
		var err error
		ln, err = net.Listen("tcp", addr)
		return err
	})
	if err != nil {
		err = fmt.Errorf("listen on %s in node %s: %w", addr, b.spec.Node.Name, err)
		if lerr := b.launch(ctx, os.O_APPEND); lerr != nil {
			err = errors.Join(err, lerr)
		}
		return nil, err
	}
	sq := newSquatter(ln, b.log)
	if err := b.launch(ctx, os.O_APPEND); err != nil {
		sq.close()
		return nil, err
	}
	return func(ctx context.Context) error {
		sq.close()
		return b.restartDaemon(ctx)
	}, nil
}

// squatter accepts TCP connections and keeps them open without a word.
type squatter struct {
	ln  net.Listener
	log *zap.Logger

	mu     sync.Mutex
	conns  []net.Conn
	closed bool
	done   sync.WaitGroup
}

// newSquatter starts accepting on ln.
func newSquatter(ln net.Listener, log *zap.Logger) *squatter {
	s := &squatter{ln: ln, log: log}
	s.done.Add(1)
	go s.accept()
	return s
}

// accept takes connections until the listener closes; each is drained.
func (s *squatter) accept() {
	defer s.done.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			_ = c.Close()
			return
		}
		s.conns = append(s.conns, c)
		s.mu.Unlock()
		s.log.Info("port squatter accepted a connection", zap.Stringer("from", c.RemoteAddr()))
		s.done.Add(1)
		go func() {
			defer s.done.Done()
			_, _ = io.Copy(io.Discard, c)
		}()
	}
}

// close stops accepting, closes every connection and waits for the
// goroutines.
func (s *squatter) close() {
	s.mu.Lock()
	s.closed = true
	conns := s.conns
	s.conns = nil
	s.mu.Unlock()
	_ = s.ln.Close()
	for _, c := range conns {
		_ = c.Close()
	}
	s.done.Wait()
}
