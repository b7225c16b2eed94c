package lab

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/peerlab/peerlab/lab/agent"
	"github.com/peerlab/peerlab/speaker"
)

// AgentExeEnv names the environment variable that overrides the program
// a namespace-mode gobgp node runs as its agent (started as `gobgpd
// --socket …`): peerlab or peerlab-gobgpd. Unset, the lab picks
// AgentProgram beside it or itself (agentExecutable); tests point it at a
// program they build.
const AgentExeEnv = "PEERLAB_AGENT_EXE"

// Bounds of a remote node's life.
const (
	// agentSocketWait bounds how long Start waits for the agent's socket.
	agentSocketWait = 10 * time.Second
	// agentExitWait is how long Stop lets the agent exit before SIGKILL:
	// GoBGP takes seconds to drop a table of 100,000 routes on a loaded
	// machine (the upstream-fulltable lab's border), so 3 s was too short.
	agentExitWait = 10 * time.Second
	// agentPollWait is the long poll of the event pump. A poll returns as
	// soon as an event arrives, and the agent's close wakes it, so only an
	// idle node waits this long: 1,000 idle agents answer 100 polls a
	// second rather than 1,000.
	agentPollWait = 10 * time.Second
	// agentMaxSocketPath is the longest path a Unix socket address holds.
	agentMaxSocketPath = 107
)

// remoteGoBGPNode is a gobgp node in namespace mode: its speaker lives in a
// child process (`peerlab agent`) inside the node's namespace, driven over
// a Unix socket in the node's folder.
type remoteGoBGPNode struct {
	spec   NodeSpec
	log    *zap.Logger
	cfg    agent.StartConfig
	peers  []speaker.PeerConfig
	routes []speaker.Route
	names  map[netip.Addr]string // bind address -> peer node name
	sock   string
	logf   string

	// lifeMu serialises Start's launch and Stop.
	lifeMu   sync.Mutex
	cmd      *exec.Cmd
	exited   chan struct{} // closed when the agent has exited
	waitErr  error         // cmd.Wait's result, set before exited closes
	client   *agent.Client
	ended    bool // terminate has run
	stopped  bool
	stopPump context.CancelFunc
	pumpDone chan struct{}

	subMu  sync.Mutex
	subs   map[uint64]func(SessionEvent)
	nextID uint64

	stopOnce sync.Once
	stopErr  error

	// faults holds what active faults change (kind_gobgp_faults.go).
	faults gobgpFaults
}

// newRemoteGoBGPNode builds the agent's configuration from the topology;
// nothing runs until Start.
func newRemoteGoBGPNode(spec NodeSpec) (Node, error) {
	n := spec.Node
	if spec.Dir == "" {
		return nil, fmt.Errorf("gobgp node %s: namespace mode needs the node's folder", n.Name)
	}
	r := &remoteGoBGPNode{
		spec: spec,
		log:  spec.Logger,
		cfg: agent.StartConfig{
			Name:          n.Name,
			ASN:           n.ASN,
			RouterID:      n.RouterID,
			ListenAddress: spec.Bind(n.Name),
			ListenPort:    spec.Port,
			ClusterID:     n.ClusterID,
			Families:      speakerFamilies(spec.Sessions),
		},
		names: map[netip.Addr]string{},
		sock:  filepath.Join(spec.Dir, "agent.sock"),
		logf:  filepath.Join(spec.Dir, "agent.log"),
		subs:  map[uint64]func(SessionEvent){},
	}
	if r.log == nil {
		r.log = zap.NewNop()
	}
	if len(r.sock) > agentMaxSocketPath {
		return nil, fmt.Errorf("gobgp node %s: agent socket path %s is longer than the %d bytes a Unix socket allows; use a shorter state folder",
			n.Name, r.sock, agentMaxSocketPath)
	}
	for _, s := range spec.Sessions {
		pc, err := gobgpPeer(spec, s)
		if err != nil {
			return nil, err
		}
		r.peers = append(r.peers, pc)
		r.names[pc.Address] = pc.Name
	}
	routes, err := nodeRoutes(n)
	if err != nil {
		return nil, err
	}
	r.routes = routes
	r.faults.init(r.peers, n.RouterID)
	return r, nil
}

// Start runs the agent in the node's namespace, waits for its socket, then
// starts the speaker, loads its routes and configures its peers. Routes go
// in before the peers, so a table loaded at start leaves packed in large
// UPDATEs when each session comes up rather than trickling out while it is
// being loaded.
func (r *remoteGoBGPNode) Start(ctx context.Context) error {
	c, err := r.launch(ctx)
	if err != nil {
		return fmt.Errorf("gobgp node %s: %w", r.spec.Node.Name, err)
	}
	if err := c.Start(ctx, r.cfg); err != nil {
		return fmt.Errorf("start speaker %s: %w", r.spec.Node.Name, err)
	}
	if len(r.routes) > 0 {
		if err := c.Announce(ctx, r.routes); err != nil {
			return fmt.Errorf("announce prefixes of %s: %w", r.spec.Node.Name, err)
		}
	}
	for _, p := range r.peers {
		if err := c.AddPeer(ctx, p); err != nil {
			return fmt.Errorf("add peer %s to %s: %w", p.Name, r.spec.Node.Name, err)
		}
	}
	return nil
}

// launch starts the agent process, connects to it and starts the event
// pump. An agent that does not come up is killed before launch returns.
func (r *remoteGoBGPNode) launch(ctx context.Context) (*agent.Client, error) {
	r.lifeMu.Lock()
	defer r.lifeMu.Unlock()
	switch {
	case r.stopped:
		return nil, errors.New("node was stopped before it started")
	case r.cmd != nil:
		return nil, errors.New("node is already started")
	}
	exe := r.spec.AgentExe
	if exe == "" {
		exe = agentExecutable(r.log)
	}
	logFile, err := os.OpenFile(r.logf, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open agent log: %w", err)
	}
	defer logFile.Close() // the child has its own descriptor
	// The lab binds the agent's socket and hands it over (fd 3): it can
	// dial at once, its calls waiting in the backlog until the agent
	// serves, and a live agent or a foreign file at the path is refused
	// here.
	lnFile, err := agent.ListenFor(r.sock)
	if err != nil {
		return nil, fmt.Errorf("start agent: %w", err)
	}
	defer lnFile.Close() // the child has its own descriptor
	// argv[0] is what it is in the node's process list, GoBGP's daemon;
	// the executable dispatches on it (RunBuiltin).
	cmd := &exec.Cmd{
		Path: exe,
		Args: []string{agent.ProcessName, "--socket", r.sock, "--" + agent.ListenFDFlag, "3", "--log-level", logLevel(r.log)},
		Dir:  r.spec.Dir,
		Env:  agentProcessEnv(os.Environ(), len(r.peers)),
		// Its own process group: a Ctrl-C meant for the lab reaches the
		// lab only, which then stops its nodes in order.
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true},
		Stdout:      logFile,
		Stderr:      logFile,
		ExtraFiles:  []*os.File{lnFile},
	}
	exited, err := r.start(cmd)
	if err != nil {
		_ = os.Remove(r.sock)
		return nil, fmt.Errorf("start agent: %w", err)
	}
	r.cmd, r.exited = cmd, make(chan struct{})
	go func() {
		r.waitErr = cmd.Wait()
		exited()
		close(r.exited)
	}()
	r.log.Debug("agent started", zap.Int("pid", cmd.Process.Pid), zap.String("socket", r.sock))

	c, err := r.connect(ctx)
	if err != nil {
		r.terminate(nil)
		if out := tail(r.logf, 1024); out != "" {
			err = fmt.Errorf("%w; agent log ends: %s", err, out)
		}
		return nil, err
	}
	r.client = c
	pumpCtx, cancel := context.WithCancel(context.Background())
	r.stopPump, r.pumpDone = cancel, make(chan struct{})
	go r.pump(pumpCtx, c, r.exited)
	return c, nil
}

// start starts the agent as the host of its node when the namespace has
// node hosts (agent.HostFlag), inside the node's network namespace alone
// otherwise. The caller calls exited once it has waited for cmd.
func (r *remoteGoBGPNode) start(cmd *exec.Cmd) (exited func(), err error) {
	if hs, ok := r.spec.Namespace.(HostStarter); ok {
		cmd.Args = append(cmd.Args, "--"+agent.HostFlag, r.spec.Node.Name)
		exited, err = hs.StartHost(cmd)
		if !errors.Is(err, ErrNoHost) {
			return exited, err
		}
		cmd.Args = cmd.Args[:len(cmd.Args)-2]
	}
	if err := r.spec.Namespace.StartProcess(cmd); err != nil {
		return nil, err
	}
	return func() {}, nil
}

// connect dials the agent's socket, which exists from the start (the lab
// bound it), and waits until the agent answers a first call, it exits, ctx
// ends or agentSocketWait passes.
func (r *remoteGoBGPNode) connect(ctx context.Context) (*agent.Client, error) {
	ctx, cancel := context.WithTimeout(ctx, agentSocketWait)
	defer cancel()
	c, err := agent.Dial(ctx, r.sock)
	if err != nil {
		return nil, err
	}
	answered := make(chan error, 1)
	go func() { answered <- c.Ping(ctx) }()
	select {
	case err = <-answered:
	case <-r.exited:
		err = fmt.Errorf("agent exited before serving %s: %v", r.sock, r.waitErr)
	}
	if err != nil {
		_ = c.Disconnect()
		return nil, fmt.Errorf("wait for agent on %s: %w", r.sock, err)
	}
	return c, nil
}

// terminate ends the agent: Close over the socket when there is a client,
// SIGTERM otherwise, SIGKILL after agentExitWait. It reports an agent that
// had to be killed or exited with a failure. Callers hold lifeMu.
func (r *remoteGoBGPNode) terminate(c *agent.Client) error {
	if r.cmd == nil || r.ended {
		return nil
	}
	r.ended = true
	asked := false
	if c != nil {
		ctx, cancel := context.WithTimeout(context.Background(), agentExitWait)
		err := c.Close(ctx)
		cancel()
		if err != nil {
			r.log.Debug("close agent over its socket", zap.Error(err))
		} else {
			asked = true
		}
	}
	if !asked {
		_ = r.cmd.Process.Signal(syscall.SIGTERM)
	}
	select {
	case <-r.exited:
	case <-time.After(agentExitWait):
		_ = r.cmd.Process.Kill()
		<-r.exited
		return fmt.Errorf("agent pid %d did not exit within %v; killed", r.cmd.Process.Pid, agentExitWait)
	}
	if r.waitErr != nil {
		return fmt.Errorf("agent pid %d: %w", r.cmd.Process.Pid, r.waitErr)
	}
	return nil
}

// Stop closes the speaker and ends the agent. It is safe to call more than
// once and on a node whose Start failed or never ran.
func (r *remoteGoBGPNode) Stop() error {
	r.stopOnce.Do(func() {
		r.lifeMu.Lock()
		defer r.lifeMu.Unlock()
		r.stopped = true
		err := r.terminate(r.client)
		if r.stopPump != nil {
			r.stopPump()
			<-r.pumpDone
		}
		if err != nil {
			r.stopErr = fmt.Errorf("stop gobgp node %s: %w", r.spec.Node.Name, err)
		}
	})
	return r.stopErr
}

// Client is the connection to the node's agent, for callers (tests, the
// gRPC API) that drive the speaker directly; nil before Start.
func (r *remoteGoBGPNode) Client() *agent.Client {
	r.lifeMu.Lock()
	defer r.lifeMu.Unlock()
	return r.client
}

// connected returns the client or an error when Start has not connected.
func (r *remoteGoBGPNode) connected() (*agent.Client, error) {
	if c := r.Client(); c != nil {
		return c, nil
	}
	return nil, fmt.Errorf("gobgp node %s: %w", r.spec.Node.Name, speaker.ErrNotStarted)
}

// Sessions reports the speaker's peers.
func (r *remoteGoBGPNode) Sessions(ctx context.Context) ([]SessionStatus, error) {
	c, err := r.connected()
	if err != nil {
		return nil, err
	}
	peers, err := c.Peers(ctx)
	if err != nil {
		return nil, fmt.Errorf("list peers of %s: %w", r.spec.Node.Name, err)
	}
	out := make([]SessionStatus, 0, len(peers))
	for _, p := range peers {
		out = append(out, SessionStatus{
			Local:        r.spec.Node.Name,
			Remote:       r.peerName(p.Address, p.Peer),
			State:        string(p.State),
			LastError:    p.LastError,
			Notification: fromSpeaker(p.Notification),
		})
	}
	return out, nil
}

// HasRoute looks prefix up among the speaker's best paths.
func (r *remoteGoBGPNode) HasRoute(ctx context.Context, prefix netip.Prefix) (bool, error) {
	c, err := r.connected()
	if err != nil {
		return false, err
	}
	fam := speaker.IPv4Unicast
	if prefix.Addr().Is6() {
		fam = speaker.IPv6Unicast
	}
	paths, err := c.RIB(ctx, speaker.TableBest, netip.Addr{}, fam)
	if err != nil {
		return false, fmt.Errorf("read RIB of %s: %w", r.spec.Node.Name, err)
	}
	for _, p := range paths {
		if p.Prefix == prefix {
			return true, nil
		}
	}
	return false, nil
}

// Subscribe calls fn for every state change the agent reports, in order,
// from the event pump's goroutine. It may be called before Start.
func (r *remoteGoBGPNode) Subscribe(fn func(SessionEvent)) func() {
	r.subMu.Lock()
	defer r.subMu.Unlock()
	id := r.nextID
	r.nextID++
	r.subs[id] = fn
	return func() {
		r.subMu.Lock()
		defer r.subMu.Unlock()
		delete(r.subs, id)
	}
}

// pump long-polls the agent's events and hands them to the subscribers
// until ctx ends or the agent exits.
func (r *remoteGoBGPNode) pump(ctx context.Context, c *agent.Client, exited <-chan struct{}) {
	defer close(r.pumpDone)
	var since uint64
	for {
		evs, next, missed, err := c.Events(ctx, since, agentPollWait)
		if err != nil {
			select {
			case <-ctx.Done():
				return
			case <-exited:
				return
			case <-time.After(250 * time.Millisecond):
				r.log.Debug("poll agent events", zap.Error(err))
				continue
			}
		}
		if missed > 0 {
			r.log.Warn("agent dropped session events before the lab read them", zap.Uint64("missed", missed))
		}
		for _, e := range evs {
			r.publish(SessionEvent{
				Time:         e.Time,
				Local:        r.spec.Node.Name,
				Remote:       r.peerName(e.Address, e.Peer),
				From:         string(e.From),
				To:           string(e.To),
				Reason:       e.Reason,
				Notification: fromSpeaker(e.Notification),
			})
		}
		since = next
	}
}

// publish calls every subscriber with e.
func (r *remoteGoBGPNode) publish(e SessionEvent) {
	r.subMu.Lock()
	fns := make([]func(SessionEvent), 0, len(r.subs))
	for _, fn := range r.subs {
		fns = append(fns, fn)
	}
	r.subMu.Unlock()
	for _, fn := range fns {
		fn(e)
	}
}

// peerName prefers the lab's own name for a peer address.
func (r *remoteGoBGPNode) peerName(addr netip.Addr, fallback string) string {
	if n, ok := r.names[addr]; ok {
		return n
	}
	if fallback != "" {
		return fallback
	}
	return addr.String()
}

// logLevel is the most verbose level log has enabled, for the agent's
// --log-level.
func logLevel(log *zap.Logger) string {
	for _, l := range []zapcore.Level{zapcore.DebugLevel, zapcore.InfoLevel, zapcore.WarnLevel} {
		if log.Core().Enabled(l) {
			return l.String()
		}
	}
	return zapcore.ErrorLevel.String()
}
