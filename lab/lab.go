package lab

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/peerlab/peerlab/lab/topology"
)

// DefaultPort is the BGP port loopback labs listen on: high, so no root is needed.
const DefaultPort = 1790

// Options tune how a lab is brought up.
type Options struct {
	// Logger receives structured logs; nil means none.
	Logger *zap.Logger
	// Registry provides the node kinds; nil means NewDefaultRegistry().
	Registry *Registry
	// StateDir holds lock and state files; "" means DefaultStateDir().
	StateDir string
	// Port is the BGP port of every node in loopback mode; 0 means
	// DefaultPort. Namespace mode always uses 179.
	Port int
	// Mode places the nodes; ModeAuto by default.
	Mode Mode
	// Faults provides the fault kinds; nil means NewDefaultFaultRegistry().
	Faults *FaultRegistry
	// CaptureDir, when set, records the lab's BGP traffic there from
	// before the nodes start until Down: <node>.pcapng per node in
	// namespace mode, lo.pcapng in loopback mode (lab/capture.go).
	CaptureDir string
	// NodeStarted, when not nil, is called after each node has started
	// (from several goroutines, never at once): started of total so far.
	// The CLI shows it as progress while a big lab comes up.
	NodeStarted func(started, total int)
}

// Lab is a running topology.
type Lab struct {
	topo    *topology.Topology
	log     *zap.Logger
	started time.Time
	mode    Mode
	dir     string       // the lab's folder in the state folder
	plan    *addressPlan // loopback mode
	ns      *nsPlan      // namespace mode
	nameLck *fileLock
	nodes   map[string]Node
	order   []string // node names in topology order
	unsubs  []func()
	// captures record the lab's traffic (Options.CaptureDir), or nil.
	captures *labCaptures
	// roles plays the nodes' cluster roles (role.go), or nil.
	roles *clusterRoles

	// polled lists the nodes that push no events: a poller watches them.
	polled []string

	mu sync.Mutex
	// events holds the last maxEvents state changes in the order they
	// were recorded; eventBase is how many older ones were dropped.
	events    []SessionEvent
	eventBase int
	// live is each session end's state as its events tell it.
	live map[sessionKey]SessionStatus
	// faults, active and faultLog: the fault kinds, the faults injected
	// now with how to heal each, and every inject and heal so far.
	faults   *FaultRegistry
	active   map[faultKey]HealFunc
	faultLog []FaultEvent
	// faultBase is how many older fault log entries were dropped
	// (maxFaultLog).
	faultBase int
	// subs are woken when events grows (subscribe.go).
	subs subscribers
	// stopBackground ends the pollers and the fault schedule; background
	// waits for them.
	stopBackground context.CancelFunc
	background     sync.WaitGroup
	// scheduleDone is closed once the fault schedule played its last
	// event (at once when there is none).
	scheduleDone chan struct{}

	downOnce sync.Once
	downErr  error
}

// Up brings topo up: it claims the lab name and an address block, builds and
// starts every node, and returns once all daemons run (sessions come up on
// their own afterwards). When anything fails, everything already made is torn
// down before Up returns the error.
func Up(ctx context.Context, topo *topology.Topology, opts Options) (_ *Lab, err error) {
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	if opts.Registry == nil {
		opts.Registry = NewDefaultRegistry()
	}
	if opts.StateDir == "" {
		opts.StateDir = DefaultStateDir()
	}
	// Absolute: node processes run in other folders (an agent in its
	// node's), and node binds and sockets are named by path.
	abs, err := filepath.Abs(opts.StateDir)
	if err != nil {
		return nil, fmt.Errorf("lab %s: state folder %s: %w", topo.Name, opts.StateDir, err)
	}
	opts.StateDir = abs
	if opts.Port == 0 {
		opts.Port = DefaultPort
	}
	if opts.Faults == nil {
		opts.Faults = NewDefaultFaultRegistry()
	}
	l := &Lab{
		topo:    topo,
		log:     opts.Logger.With(zap.String("lab", topo.Name)),
		started: time.Now(),
		nodes:   make(map[string]Node, len(topo.Nodes)),
		live:    make(map[sessionKey]SessionStatus, 2*len(topo.Sessions)),
		faults:  opts.Faults,
		active:  map[faultKey]HealFunc{},

		scheduleDone: make(chan struct{}),
	}
	defer func() {
		if err != nil {
			if derr := l.Down(); derr != nil {
				l.log.Warn("tear down after failed bring-up", zap.Error(derr))
			}
		}
	}()

	if err := PrepareStateDir(opts.StateDir); err != nil {
		return nil, fmt.Errorf("lab %s: %w", topo.Name, err)
	}
	if l.nameLck, err = tryLock(filepath.Join(opts.StateDir, "labs", topo.Name+".lock")); err != nil {
		return nil, fmt.Errorf("claim lab name %s: %w", topo.Name, err)
	}
	if l.nameLck == nil {
		return nil, fmt.Errorf("lab %s: %w", topo.Name, ErrLabExists)
	}
	if l.mode, err = resolveMode(opts.Mode, topo); err != nil {
		return nil, fmt.Errorf("lab %s: %w", topo.Name, err)
	}
	bind, port := func(node string) netip.Addr { return topo.Node(node).Address }, namespaceBGPPort
	l.dir = LabDir(opts.StateDir, topo.Name)
	// Holding the name, this lab owns whatever a dead lab of the same name
	// left; it must go first, or the bring-up would trip over it.
	if err := reclaim(ctx, l.dir, topo.Name, l.log); err != nil {
		return nil, fmt.Errorf("lab %s: remove what a dead lab of the same name left: %w", topo.Name, err)
	}
	if err := os.MkdirAll(l.dir, 0o755); err != nil {
		return nil, fmt.Errorf("lab %s: create lab folder: %w", topo.Name, err)
	}
	if l.mode == ModeNamespace {
		if l.ns, err = planNamespaces(ctx, l.dir, topo, l.log); err != nil {
			return nil, fmt.Errorf("lab %s: %w", topo.Name, err)
		}
		l.log.Debug("namespaces and node hosts ready", zap.Int("nodes", len(topo.Nodes)), zap.Duration("since_start", time.Since(l.started)))
	} else {
		if l.plan, err = planLoopback(opts.StateDir, topo); err != nil {
			return nil, fmt.Errorf("lab %s: %w", topo.Name, err)
		}
		for _, n := range topo.Nodes {
			if !n.Address.Is4() {
				return nil, fmt.Errorf("lab %s: node %s: loopback mode needs an IPv4 address, got %s", topo.Name, n.Name, n.Address)
			}
		}
		bind, port = l.plan.bindAddress, opts.Port
	}

	var agentExe string
	if l.ns != nil && slices.ContainsFunc(topo.Nodes, func(n *topology.Node) bool { return n.Kind == topology.KindGoBGP }) {
		// Once per lab: it reads the build information of a binary.
		agentExe = agentExecutable(l.log)
		l.log.Debug("agent program", zap.String("path", agentExe))
	}
	for _, n := range topo.Nodes {
		kind, ok := opts.Registry.Lookup(n.Kind)
		if !ok {
			return nil, fmt.Errorf("lab %s: node %s: kind %q is not available (have %v)", topo.Name, n.Name, n.Kind, opts.Registry.Names())
		}
		spec := NodeSpec{
			Node:     n,
			Topology: topo,
			Sessions: sessionsOf(topo, n.Name),
			Bind:     bind,
			Port:     port,
			Logger:   l.log.With(zap.String("node", n.Name)),
		}
		if l.ns != nil {
			if spec.Dir, err = l.ns.nodeDir(n.Name); err != nil {
				return nil, fmt.Errorf("lab %s: %w", topo.Name, err)
			}
			spec.Namespace = l.ns.namespace(n.Name)
			spec.AgentExe = agentExe
		}
		node, err := kind.New(spec)
		if err != nil {
			return nil, fmt.Errorf("lab %s: build node %s: %w", topo.Name, n.Name, err)
		}
		l.nodes[n.Name] = node
		l.order = append(l.order, n.Name)
		if src, ok := node.(EventSource); ok {
			l.unsubs = append(l.unsubs, src.Subscribe(l.record))
		} else {
			l.polled = append(l.polled, n.Name)
		}
	}
	if opts.CaptureDir != "" {
		if err := l.startCaptures(opts.CaptureDir, port); err != nil {
			return nil, fmt.Errorf("lab %s: %w", topo.Name, err)
		}
	}
	// API servers and nginx-proxies run before the nodes that need them.
	if l.roles, err = l.newClusterRoles(ctx); err != nil {
		return nil, fmt.Errorf("lab %s: %w", topo.Name, err)
	}
	// Nodes start concurrently: every session's passive end must be
	// configured before its active end's first connection attempt (GoBGP
	// makes it 1.5 to 2 s after the peer is added), which a sequential start
	// of a large lab would miss.
	var (
		startedMu sync.Mutex
		started   int
	)
	err = forEachNode(startOrder(l.order, topo), func(name string) error {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("start node %s: bring-up interrupted: %w", name, err)
		}
		if err := l.nodes[name].Start(ctx); err != nil {
			return fmt.Errorf("start node %s: %w", name, err)
		}
		if opts.NodeStarted != nil {
			startedMu.Lock()
			started++
			opts.NodeStarted(started, len(l.order))
			startedMu.Unlock()
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("lab %s: %w", topo.Name, err)
	}
	l.log.Debug("nodes started", zap.Int("nodes", len(l.order)), zap.Duration("since_start", time.Since(l.started)))
	bgCtx, cancel := context.WithCancel(context.Background())
	l.stopBackground = cancel
	if err := l.roles.startAgents(bgCtx); err != nil {
		return nil, fmt.Errorf("lab %s: %w", topo.Name, err)
	}
	for _, name := range l.polled {
		l.background.Add(1)
		go func() {
			defer l.background.Done()
			l.pollSessions(bgCtx, l.nodes[name], pollEvery)
		}()
	}
	if len(topo.Faults) > 0 {
		l.background.Add(1)
		go func() {
			defer l.background.Done()
			l.runSchedule(bgCtx, time.Now())
		}()
	} else {
		close(l.scheduleDone)
	}
	l.log.Info("lab up", zap.String("mode", string(l.mode)), zap.Int("nodes", len(l.nodes)),
		zap.Int("sessions", len(topo.Sessions)), zap.Int("port", port))
	return l, nil
}

// sessionsOf lists the sessions node is an end of.
func sessionsOf(topo *topology.Topology, node string) []*topology.Session {
	var out []*topology.Session
	for _, s := range topo.Sessions {
		if s.Has(node) {
			out = append(out, s)
		}
	}
	return out
}

// maxEvents bounds the timeline a long-running lab keeps.
const maxEvents = 20000

// record keeps one state change for the report's timeline and the live
// view of the session end it concerns.
func (l *Lab) record(e SessionEvent) {
	l.mu.Lock()
	if len(l.events) >= maxEvents {
		l.events = append(l.events[:0], l.events[maxEvents/2:]...)
		l.eventBase += maxEvents / 2
	}
	l.events = append(l.events, e)
	k := sessionKey{e.Local, e.Remote}
	st := l.live[k]
	st.Local, st.Remote, st.State = e.Local, e.Remote, e.To
	if st.Established() {
		st.LastError, st.Notification = "", nil
	} else {
		if e.Reason != "" {
			st.LastError = e.Reason
		}
		if e.Notification != nil {
			st.Notification = e.Notification
		}
	}
	l.live[k] = st
	l.notifyLocked()
	l.mu.Unlock()
	l.log.Debug("session state", zap.String("node", e.Local), zap.String("peer", e.Remote),
		zap.String("from", e.From), zap.String("to", e.To), zap.String("reason", e.Reason))
}

// views returns every session end's state, keyed by (local, remote), as
// the nodes' events (pushed, or found by polling) tell it.
func (l *Lab) views(context.Context) (map[sessionKey]SessionStatus, error) {
	l.mu.Lock()
	ss := make([]SessionStatus, 0, len(l.live))
	for _, st := range l.live {
		ss = append(ss, st)
	}
	l.mu.Unlock()
	fillReceivedFromSender(ss)
	return indexSessions(ss), nil
}

// EventsSince returns the state changes recorded after the first seq
// ones, in the order the lab recorded them (nodes report with some delay,
// so that is not always time order), and the seq to ask with next time.
// A watcher that follows a lab with it sees every change once; changes a
// long-running lab dropped (it keeps maxEvents) are skipped.
func (l *Lab) EventsSince(seq int) ([]SessionEvent, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	next := l.eventBase + len(l.events)
	i := max(seq-l.eventBase, 0)
	if i >= len(l.events) {
		return nil, next
	}
	return append([]SessionEvent(nil), l.events[i:]...), next
}

// Events returns the state changes seen so far, oldest first.
func (l *Lab) Events() []SessionEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := append([]SessionEvent(nil), l.events...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out
}

// Topology returns the topology the lab plays.
func (l *Lab) Topology() *topology.Topology { return l.topo }

// Started is when Up began.
func (l *Lab) Started() time.Time { return l.started }

// Node returns the running node called name, or nil.
func (l *Lab) Node(name string) Node { return l.nodes[name] }

// Dir is the lab's folder in the state folder.
func (l *Lab) Dir() string { return l.dir }

// Mode is the mode the lab runs in.
func (l *Lab) Mode() Mode { return l.mode }

// BindAddress is the address node really binds: its 127.x.y.z address in
// loopback mode, its lab address in namespace mode.
func (l *Lab) BindAddress(node string) string {
	if l.plan != nil {
		return l.plan.bindAddress(node).String()
	}
	if n := l.topo.Node(node); n != nil {
		return n.Address.String()
	}
	return ""
}

// Sessions collects every node's view of its sessions, ordered by local then
// remote node name. A node that cannot answer contributes an error, not a panic.
func (l *Lab) Sessions(ctx context.Context) ([]SessionStatus, error) {
	var all []SessionStatus
	var errs []error
	for _, name := range l.order {
		ss, err := l.nodes[name].Sessions(ctx)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		all = append(all, ss...)
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].Local != all[j].Local {
			return all[i].Local < all[j].Local
		}
		return all[i].Remote < all[j].Remote
	})
	fillReceivedFromSender(all)
	return all, errors.Join(errs...)
}

// Down stops every node and frees the lab's name and addresses. It is safe to call more than once and on a half-built lab.
func (l *Lab) Down() error {
	l.downOnce.Do(func() {
		if l.stopBackground != nil {
			l.stopBackground()
			l.background.Wait()
		}
		for _, u := range l.unsubs {
			u()
		}
		rerr := l.roles.stop()
		err := forEachNode(l.order, func(name string) error {
			if err := l.nodes[name].Stop(); err != nil {
				return fmt.Errorf("stop node %s: %w", name, err)
			}
			return nil
		})
		if rerr != nil {
			err = errors.Join(err, fmt.Errorf("stop node roles: %w", rerr))
		}
		if cerr := l.stopCaptures(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("stop captures: %w", cerr))
		}
		if l.ns != nil {
			if nerr := l.ns.destroy(); nerr != nil {
				err = errors.Join(err, fmt.Errorf("remove namespaces: %w", nerr))
			}
		}
		if l.plan != nil {
			l.plan.release()
		}
		if l.dir != "" {
			if rerr := removeLabDir(l.dir); rerr != nil {
				err = errors.Join(err, fmt.Errorf("remove lab folder: %w", rerr))
			}
		}
		l.nameLck.release()
		l.downErr = err
		l.log.Info("lab down", zap.Error(l.downErr))
	})
	return l.downErr
}
