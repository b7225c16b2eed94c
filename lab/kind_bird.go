package lab

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"go.uber.org/zap"

	"github.com/peerlab/peerlab/internal/bird"
	"github.com/peerlab/peerlab/speaker"
)

// birdNode is a node played by a real BIRD daemon, BIRD 1.6 (kind bird) or
// BIRD 2 (kind bird2), in the node's own network namespace. Its
// configuration is what Calico's confd templates would write for the
// node's sessions (internal/bird.RenderConfig); its files live under
// NodeSpec.Dir as birdPaths describes.
type birdNode struct {
	spec    NodeSpec
	version bird.Version
	bins    bird.Binaries
	paths   birdPaths
	config  []byte
	log     *zap.Logger
	// peers maps each BGP protocol name to the peer node it talks to;
	// byAddr maps peer addresses, for protocols named otherwise.
	peers  map[string]string
	byAddr map[string]string

	mu      sync.Mutex
	daemon  *bird.Daemon
	client  *bird.Client
	stopped bool
	// frozen is set while hold-timer-expiry holds the daemon stopped
	// (SIGSTOP): control socket commands then fail at once instead of
	// waiting for a daemon that cannot answer.
	frozen atomic.Bool

	// faults holds what active config faults change, over the topology's
	// configuration (kind_bird_faults_config.go).
	faults birdFaults
}

// BIRDNode is implemented by nodes played by a BIRD daemon, for callers
// (tests, faults, diagnosis) that talk to the daemon directly.
type BIRDNode interface {
	// Client returns the node's control socket connection, dialling it
	// again if the last one broke. It is shared: do not close it.
	Client(ctx context.Context) (*bird.Client, error)
	// Version is the BIRD major version the node runs.
	Version() bird.Version
	// ConfigPath is the rendered configuration file.
	ConfigPath() string
	// SocketPath is the control socket.
	SocketPath() string
	// Pid is the daemon's process ID, 0 when it is not running.
	Pid() int
}

// newBIRDNode returns the kind that runs nodes on BIRD version v. The node's
// configuration is rendered here, so topology problems surface before
// anything starts.
func newBIRDNode(v bird.Version) KindFunc {
	return func(spec NodeSpec) (Node, error) {
		if spec.Namespace == nil {
			return nil, fmt.Errorf("kind %s needs namespace mode", spec.Node.Kind)
		}
		if spec.Dir == "" {
			return nil, fmt.Errorf("kind %s: node %s has no folder", spec.Node.Kind, spec.Node.Name)
		}
		log := spec.Logger
		if log == nil {
			log = zap.NewNop()
		}
		b := &birdNode{spec: spec, version: v, bins: bird.DefaultBinaries(v), paths: newBIRDPaths(spec.Dir), log: log}
		cfg, names, err := birdConfig(spec, b.paths.Log)
		if err != nil {
			return nil, fmt.Errorf("kind %s: node %s: %w", spec.Node.Kind, spec.Node.Name, err)
		}
		cfg = calicoInitialConfig(spec.Node, cfg) // role calico-node: peers come from the API server
		var buf bytes.Buffer
		if err := bird.RenderConfig(&buf, cfg, v); err != nil {
			return nil, fmt.Errorf("kind %s: node %s: %w", spec.Node.Kind, spec.Node.Name, err)
		}
		b.config = buf.Bytes()
		b.faults.base = cfg
		b.peers = names
		b.byAddr = make(map[string]string, len(cfg.Peers))
		for _, p := range cfg.Peers {
			b.byAddr[p.Address.String()] = p.Name
		}
		return b, nil
	}
}

// Start writes and checks the configuration, then runs bird in the node's
// namespace and waits for its control socket.
func (b *birdNode) Start(ctx context.Context) error {
	if err := b.paths.prepare(); err != nil {
		return err
	}
	if err := os.WriteFile(b.paths.Config, b.config, 0o600); err != nil {
		return fmt.Errorf("write BIRD config: %w", err)
	}
	if err := b.checkConfig(ctx); err != nil {
		return err
	}
	return b.launch(ctx, os.O_TRUNC)
}

// launch runs bird on the configuration file as it is and waits for its
// control socket. appendFlag is os.O_TRUNC on the first start and
// os.O_APPEND when a fault restarts the daemon, so the stderr file keeps
// what the earlier run said.
func (b *birdNode) launch(ctx context.Context, appendFlag int) error {
	stderr, err := os.OpenFile(b.paths.Stderr, os.O_CREATE|os.O_WRONLY|appendFlag, 0o644)
	if err != nil {
		return fmt.Errorf("open BIRD stderr file: %w", err)
	}
	defer stderr.Close() // the child keeps its own descriptor

	b.mu.Lock()
	defer b.mu.Unlock()
	if b.stopped {
		return fmt.Errorf("node %s was stopped before it started", b.spec.Node.Name)
	}
	if b.daemon != nil {
		return fmt.Errorf("node %s is already started", b.spec.Node.Name)
	}
	d, err := bird.StartDaemon(ctx, bird.DaemonOptions{
		Version:    b.version,
		Binaries:   b.bins,
		ConfigPath: b.paths.Config,
		SocketPath: b.paths.Socket,
		Stderr:     stderr,
		Logger:     b.log,
		// argv[0] "bird", as calico-node runs it (calicoctl node status
		// looks for exactly that process).
		Start: func(cmd *exec.Cmd) error {
			cmd.Args[0] = "bird"
			return b.spec.Namespace.StartProcess(cmd)
		},
	})
	if err != nil {
		if out := tail(b.paths.Stderr, 1024); out != "" {
			err = fmt.Errorf("%w; bird said: %s", err, out)
		}
		return fmt.Errorf("start %s: %w", b.version, err)
	}
	b.daemon = d
	return nil
}

// checkConfig runs `bird -p -c` on the written file. Parsing needs no
// network, so it runs outside the namespace.
func (b *birdNode) checkConfig(ctx context.Context) error { return b.checkFile(ctx, b.paths.Config) }

// checkFile runs `bird -p -c file`.
func (b *birdNode) checkFile(ctx context.Context, file string) error {
	out, err := exec.CommandContext(ctx, b.bins.Bird, "-p", "-c", file).CombinedOutput()
	if err != nil {
		msg := strings.TrimSpace(string(out))
		if msg == "" {
			msg = err.Error()
		}
		return fmt.Errorf("%s rejects config %s: %s", b.bins.Bird, file, msg)
	}
	return nil
}

// reconfigure renders cfg, checks it with `bird -p -c`, puts it in place
// of the node's configuration file and makes the running daemon load it
// (`configure` on the control socket). BIRD restarts every protocol whose
// configuration changed; the others keep their sessions.
func (b *birdNode) reconfigure(ctx context.Context, cfg bird.Config) error {
	var buf bytes.Buffer
	if err := bird.RenderConfig(&buf, cfg, b.version); err != nil {
		return fmt.Errorf("node %s: %w", b.spec.Node.Name, err)
	}
	next := b.paths.Config + ".next"
	if err := os.WriteFile(next, buf.Bytes(), 0o600); err != nil {
		return fmt.Errorf("node %s: write BIRD config: %w", b.spec.Node.Name, err)
	}
	if err := b.checkFile(ctx, next); err != nil {
		_ = os.Remove(next)
		return fmt.Errorf("node %s: %w", b.spec.Node.Name, err)
	}
	if err := os.Rename(next, b.paths.Config); err != nil {
		return fmt.Errorf("node %s: replace BIRD config: %w", b.spec.Node.Name, err)
	}
	b.mu.Lock()
	b.config = buf.Bytes()
	b.learnNames(cfg)
	b.mu.Unlock()
	err := b.cmd(ctx, func(c *bird.Client) error { return c.Configure(ctx) })
	if err != nil {
		return fmt.Errorf("node %s: configure: %w", b.spec.Node.Name, err)
	}
	return nil
}

// tail returns the last n bytes of file, trimmed, or "".
func tail(file string, n int64) string {
	f, err := os.Open(file)
	if err != nil {
		return ""
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > n {
		_, _ = f.Seek(-n, io.SeekEnd)
	}
	data, _ := io.ReadAll(f)
	return strings.TrimSpace(string(data))
}

// Stop stops the daemon (SIGTERM, then SIGKILL after five seconds). It is
// safe to call more than once and on a node that never started.
func (b *birdNode) Stop() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.stopped = true
	if b.client != nil {
		_ = b.client.Close()
		b.client = nil
	}
	if b.daemon == nil {
		return nil
	}
	// A daemon frozen by hold-timer-expiry would only act on SIGTERM
	// once continued.
	_ = syscall.Kill(b.daemon.Pid(), syscall.SIGCONT)
	err := b.daemon.Stop()
	b.daemon = nil
	if b.paths.SocketNote != "" {
		_ = os.Remove(b.paths.SocketNote)
	}
	if err != nil {
		return fmt.Errorf("stop %s of node %s: %w", b.version, b.spec.Node.Name, err)
	}
	return nil
}

// Client implements BIRDNode.
func (b *birdNode) Client(ctx context.Context) (*bird.Client, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.clientLocked(ctx)
}

func (b *birdNode) clientLocked(ctx context.Context) (*bird.Client, error) {
	if b.stopped || b.daemon == nil {
		return nil, fmt.Errorf("node %s: %s is not running", b.spec.Node.Name, b.version)
	}
	if b.client != nil {
		return b.client, nil
	}
	c, err := b.daemon.Dial(ctx)
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", b.spec.Node.Name, err)
	}
	b.client = c
	return c, nil
}

// cmd runs one control socket command on the shared client. When the
// connection broke (rather than BIRD answering with an error), it drops
// the client and tries once more on a fresh one.
func (b *birdNode) cmd(ctx context.Context, fn func(*bird.Client) error) error {
	if b.frozen.Load() {
		return b.errFrozen()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.frozen.Load() { // frozen while this call waited for the lock
		return b.errFrozen()
	}
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		var c *bird.Client
		if c, err = b.clientLocked(ctx); err != nil {
			return err
		}
		if err = fn(c); err == nil || bird.ErrorCode(err) != 0 || ctx.Err() != nil {
			return err
		}
		_ = c.Close()
		b.client = nil
	}
	return err
}

// learnNames adds the protocol names and addresses of cfg's peers to the
// maps that name a protocol's peer node, so sessions a fault renamed (a
// new neighbor address) keep their node's name. The maps are replaced,
// not changed, and only grow. Callers hold b.mu.
func (b *birdNode) learnNames(cfg bird.Config) {
	peers, byAddr := maps.Clone(b.peers), maps.Clone(b.byAddr)
	for _, p := range cfg.Peers {
		peers[bird.ProtocolName(p)] = p.Name
		byAddr[p.Address.String()] = p.Name
	}
	b.peers, b.byAddr = peers, byAddr
}

// Version implements BIRDNode.
func (b *birdNode) Version() bird.Version { return b.version }

// ConfigPath implements BIRDNode.
func (b *birdNode) ConfigPath() string { return b.paths.Config }

// SocketPath implements BIRDNode.
func (b *birdNode) SocketPath() string { return b.paths.Socket }

// Pid implements BIRDNode.
func (b *birdNode) Pid() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.daemon == nil {
		return 0
	}
	return b.daemon.Pid()
}

// Sessions reports every BGP protocol of the daemon from `show protocols all`.
func (b *birdNode) Sessions(ctx context.Context) ([]SessionStatus, error) {
	var details []bird.ProtocolDetail
	err := b.cmd(ctx, func(c *bird.Client) error {
		lines, err := c.Cmd(ctx, "show protocols all")
		if err != nil {
			return err
		}
		details, err = bird.ParseProtocolDetails(strings.NewReader(bird.Text(lines)))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sessions of %s: %w", b.spec.Node.Name, err)
	}
	out := make([]SessionStatus, 0, len(b.peers))
	for _, d := range details {
		if d.Proto != "BGP" {
			continue
		}
		out = append(out, b.status(d))
	}
	return out, nil
}

// status turns one BGP protocol's details into the lab's session view.
func (b *birdNode) status(d bird.ProtocolDetail) SessionStatus {
	st := SessionStatus{Local: b.spec.Node.Name, Remote: b.remote(d), State: birdState(d), LastError: d.LastError}
	if st.LastError == "" && !strings.EqualFold(d.Info, "Established") {
		st.LastError = d.InfoDetail
	}
	if le := bird.ParseLastError(st.LastError); le.Notification {
		st.Notification = &Notification{
			Code:    le.Code,
			Subcode: le.Subcode,
			Name:    speaker.NotificationName(le.Code, le.Subcode),
			Sent:    le.Sent,
		}
	}
	return st
}

// remote names the peer node of a BGP protocol: by the name the lab gave
// it, else by its neighbor address, else the address or name as BIRD has it.
func (b *birdNode) remote(d bird.ProtocolDetail) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if n, ok := b.peers[d.Name]; ok {
		return n
	}
	if n, ok := b.byAddr[d.NeighborAddress]; ok {
		return n
	}
	if d.NeighborAddress != "" {
		return d.NeighborAddress
	}
	return d.Name
}

// birdState is the session state as BIRD names it ("BGP state:" of `show
// protocols all`), falling back to the info column, and "Down" for a
// protocol that is down without one.
func birdState(d bird.ProtocolDetail) string {
	switch {
	case d.BGPState != "":
		return d.BGPState
	case d.State == "down":
		return "Down"
	case d.Info != "" && !strings.HasSuffix(d.Info, ":"):
		return d.Info
	}
	return d.State
}

// HasRoute reports whether BIRD's table has a best route for exactly prefix.
// BIRD nodes are configured for IPv4 only, so an IPv6 prefix is never there.
func (b *birdNode) HasRoute(ctx context.Context, prefix netip.Prefix) (bool, error) {
	if !prefix.Addr().Is4() {
		return false, nil
	}
	var ok bool
	err := b.cmd(ctx, func(c *bird.Client) error {
		var err error
		ok, err = c.HasPrimaryRoute(ctx, prefix)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("route %s on %s: %w", prefix, b.spec.Node.Name, err)
	}
	return ok, nil
}
