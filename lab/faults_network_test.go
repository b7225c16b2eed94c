package lab

import (
	"bytes"
	"context"
	"fmt"
	"hash/fnv"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/peerlab/peerlab/internal/bird"
	"github.com/peerlab/peerlab/lab/topology"
)

// Fault tests bring small namespace labs up with Up, inject a fault on a
// BIRD 1.6 node and a BIRD 2 node at once, watch both ends of their
// sessions, heal and wait for Established again. Each lab has two
// separate pairs, so that both versions are faulted side by side:
//
//	x1 (bird)  -- y1 (bird2, or gobgp)
//	x2 (bird2) -- y2 (bird)
//
// The fault goes on x1 and x2; y1 and y2 are their peers.

// faultTimers are the topology timers of every fault lab: a hold time of
// 9 s makes a silent peer fail in seconds.
const faultTimers = `{hold: 9s, keepalive: 3s}`

// faultWait bounds every wait for a session state: BIRD's connect retry is
// 5 s and its error wait 5 s, doubling up to 30 s, after each failure.
const faultWait = 45 * time.Second

// faultLab is one test's lab with a watcher over every session end.
type faultLab struct {
	t *testing.T
	*Lab
	w *sessionWatch
}

// faultPair is a faulted node and its peer.
type faultPair struct{ node, peer string }

// faultPairs are the two faulted nodes of every fault lab and their peers.
var faultPairs = []faultPair{{"x1", "y1"}, {"x2", "y2"}}

// faultTopology is the YAML of a fault lab: y1 is of kind y1Kind; with
// passivePeers the peers y1 and y2 never connect, so every session is
// opened by the faulted node.
func faultTopology(name, y1Kind string, passivePeers bool) string {
	opts := func(peer string) string {
		if passivePeers {
			return ", passive: " + peer
		}
		return ""
	}
	return fmt.Sprintf(`name: %s
defaults: {asn: 64512, timers: %s}
nodes:
  x1: {address: 10.0.0.1, kind: bird, prefixes: [10.244.1.0/26]}
  y1: {address: 10.0.0.2, kind: %s, prefixes: [10.244.2.0/26]}
  x2: {address: 10.0.0.3, kind: bird2, prefixes: [10.244.3.0/26]}
  y2: {address: 10.0.0.4, kind: bird, prefixes: [10.244.4.0/26]}
peerings:
  - {between: [x1, y1]%s}
  - {between: [x2, y2]%s}
`, name, faultTimers, y1Kind, opts("y1"), opts("y2"))
}

// faultLabName derives a lab name (at most 20 characters) unique to the
// test and the process.
func faultLabName(t *testing.T) string {
	h := fnv.New32a()
	fmt.Fprintf(h, "%s/%d", t.Name(), os.Getpid())
	return fmt.Sprintf("f%08x", h.Sum32())
}

// upFaultLab brings the lab of yaml up in namespace mode, waits until every
// session is Established at both ends and starts watching them.
func upFaultLab(t *testing.T, yaml string) *faultLab {
	t.Helper()
	requireBIRD(t)
	topo, err := topology.Parse("fault.yaml", []byte(yaml))
	if err != nil {
		t.Fatalf("topology: %v", err)
	}
	for _, n := range topo.Nodes {
		if n.Kind == topology.KindGoBGP {
			useBuiltAgent(t)
		}
	}
	log := zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	l, err := Up(ctx, topo, Options{Logger: log, StateDir: t.TempDir(), Mode: ModeNamespace})
	if err != nil {
		t.Fatalf("up %s: %v", topo.Name, err)
	}
	t.Cleanup(func() {
		if err := l.Down(); err != nil {
			t.Errorf("down %s: %v", topo.Name, err)
		}
	})
	fl := &faultLab{t: t, Lab: l, w: watchSessions(t, l)}
	for _, s := range topo.Sessions {
		fl.waitEstablished(s.A, s.B, time.Time{})
	}
	return fl
}

// agentEnv guards setting AgentExeEnv for parallel tests, which may not
// use t.Setenv.
var agentEnv sync.Mutex

// useBuiltAgent points namespace-mode gobgp nodes at a peerlab built for
// the test binary.
func useBuiltAgent(t testing.TB) {
	t.Helper()
	useAgent(t, builtPeerlab(t))
}

// useAgent points namespace-mode gobgp nodes at the agent program exe.
func useAgent(t testing.TB, exe string) {
	t.Helper()
	agentEnv.Lock()
	defer agentEnv.Unlock()
	if os.Getenv(AgentExeEnv) != exe {
		if err := os.Setenv(AgentExeEnv, exe); err != nil {
			t.Fatal(err)
		}
	}
}

// inject injects f and fails the test on an error.
func (fl *faultLab) inject(f *topology.Fault) time.Time {
	fl.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	at := time.Now()
	if err := fl.InjectFault(ctx, f); err != nil {
		fl.t.Fatalf("inject %s on %s: %v", f.Name, f.Node, err)
	}
	return at
}

// heal heals f and fails the test on an error.
func (fl *faultLab) heal(f *topology.Fault) time.Time {
	fl.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	at := time.Now()
	if err := fl.HealFault(ctx, f); err != nil {
		fl.t.Fatalf("heal %s on %s: %v", f.Name, f.Node, err)
	}
	return at
}

// waitEstablished waits until local sees remote Established after since.
func (fl *faultLab) waitEstablished(local, remote string, since time.Time) {
	fl.t.Helper()
	fl.w.waitFor(fl.t, local, remote, since, "Established", SessionStatus.Established)
}

// showProtocols returns `show protocols all` of a BIRD node's BGP
// protocols as BIRD printed it, for the log.
func (fl *faultLab) showProtocols(node string) string {
	bn, ok := fl.Node(node).(*birdNode)
	if !ok {
		return "(not a BIRD node)"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var out string
	err := bn.cmd(ctx, func(c *bird.Client) error {
		lines, err := c.Cmd(ctx, "show protocols all")
		out = bird.Text(lines)
		return err
	})
	if err != nil {
		return "error: " + err.Error()
	}
	var keep []string
	on := false
	for _, line := range strings.Split(out, "\n") {
		if line != "" && line[0] != ' ' {
			on = strings.Contains(line, " BGP ")
		}
		if on {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}

// logReport logs the lab report as `peerlab` prints it.
func (fl *faultLab) logReport() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var buf bytes.Buffer
	_ = fl.Report(ctx, nil).WriteTable(&buf)
	fl.t.Logf("report:\n%s", buf.String())
}

// observation is one session end's state at one moment.
type observation struct {
	at            time.Time
	local, remote string
	status        SessionStatus
	// changed is set when the state or last error differs from the
	// poll before.
	changed bool
}

// sessionWatch polls every node of a lab every 200 ms, each node on its own
// goroutine, and keeps every answer.
type sessionWatch struct {
	start time.Time
	mu    sync.Mutex
	seen  []observation
	// errs counts the polls that failed; lastErr is the latest failure.
	errs    int
	lastErr error
}

// watchSessions starts watching l until the test ends; the changes are
// logged then.
func watchSessions(t *testing.T, l *Lab) *sessionWatch {
	w := &sessionWatch{start: time.Now()}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, n := range l.topo.Nodes {
		node := l.Node(n.Name)
		wg.Go(func() { w.poll(ctx, node) })
	}
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		t.Logf("session changes:\n%s", w.String())
	})
	return w
}

// poll records node's changes until ctx ends.
func (w *sessionWatch) poll(ctx context.Context, node Node) {
	prev := map[string]SessionStatus{}
	for ctx.Err() == nil {
		cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		ss, err := node.Sessions(cctx)
		cancel()
		if err != nil {
			w.mu.Lock()
			w.errs++
			w.lastErr = err
			w.mu.Unlock()
		}
		if err == nil {
			now := time.Now()
			w.mu.Lock()
			for _, s := range ss {
				p, ok := prev[s.Remote]
				changed := !ok || p.State != s.State || p.LastError != s.LastError
				w.seen = append(w.seen, observation{at: now, local: s.Local, remote: s.Remote, status: s, changed: changed})
				prev[s.Remote] = s
			}
			w.mu.Unlock()
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// find returns the first observation of local's view of remote after
// since that ok accepts.
func (w *sessionWatch) find(local, remote string, since time.Time, ok func(SessionStatus) bool) (observation, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, o := range w.seen {
		if o.local == local && o.remote == remote && !o.at.Before(since) && ok(o.status) {
			return o, true
		}
	}
	return observation{}, false
}

// last returns the latest observation of local's view of remote.
func (w *sessionWatch) last(local, remote string) (observation, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i := len(w.seen) - 1; i >= 0; i-- {
		if o := w.seen[i]; o.local == local && o.remote == remote {
			return o, true
		}
	}
	return observation{}, false
}

// waitFor waits up to faultWait for an observation of local's view of
// remote after since that ok accepts, and returns it.
func (w *sessionWatch) waitFor(t *testing.T, local, remote string, since time.Time, what string, ok func(SessionStatus) bool) observation {
	t.Helper()
	deadline := time.Now().Add(faultWait)
	for {
		if o, found := w.find(local, remote, since, ok); found {
			return o
		}
		if time.Now().After(deadline) {
			o, _ := w.last(local, remote)
			w.mu.Lock()
			errs, lastErr := w.errs, w.lastErr
			w.mu.Unlock()
			t.Fatalf("%s -> %s: no %s within %v; last seen %s %q at %s (failed polls: %d, last: %v)", local, remote, what, faultWait,
				o.status.State, o.status.LastError, o.at.Format("15:04:05.000"), errs, lastErr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// seen is what one end of a session must show at some moment: one of
// states (any state when empty) with exactly lastError, or one of
// lastErrors when that is set instead, or any last error with anyError.
type seen struct {
	states     []string
	lastError  string
	lastErrors []string
	anyError   bool
}

// match reports whether s is what e describes.
func (e seen) match(s SessionStatus) bool {
	if len(e.states) > 0 && !slices.Contains(e.states, s.State) {
		return false
	}
	if e.anyError {
		return true
	}
	if len(e.lastErrors) > 0 {
		return slices.Contains(e.lastErrors, s.LastError)
	}
	return s.LastError == e.lastError
}

// String describes e for failures.
func (e seen) String() string {
	errs := e.lastErrors
	if len(errs) == 0 {
		errs = []string{e.lastError}
	}
	return fmt.Sprintf("state %v with last error %q", e.states, errs)
}

// expectSeq waits until local's end of the session with remote has shown
// each of want in order, the first after since, and returns when it
// showed the last.
func (fl *faultLab) expectSeq(local, remote string, since time.Time, want ...seen) time.Time {
	fl.t.Helper()
	for _, e := range want {
		since = fl.w.waitFor(fl.t, local, remote, since, e.String(), e.match).at
	}
	return since
}

// String lists the changes, timed from the start of the watch.
func (w *sessionWatch) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var b strings.Builder
	for _, o := range w.seen {
		if !o.changed {
			continue
		}
		fmt.Fprintf(&b, "%6.1fs %s -> %s: %s %q\n", o.at.Sub(w.start).Seconds(), o.local, o.remote, o.status.State, o.status.LastError)
	}
	return b.String()
}

// Texts BIRD 1.6 and BIRD 2 print, as observed in these tests.
const (
	errHoldTimer   = "BGP Error: Hold timer expired"
	errRefused     = "Socket: Connection refused"
	errReset       = "Socket: Connection reset by peer"
	errClosed      = "Socket: Connection closed"
	errNoRoute     = "Socket: No route to host"
	errNetUnreach  = "Socket: Network is unreachable"
	errNoListening = "Error: No listening socket"
)

// connecting are the states of an end that tries to connect.
var connecting = []string{"Active", "Connect"}

// netFaultCase is one network fault of the matrix and what each end of
// the faulted sessions shows while it is on.
type netFaultCase struct {
	fault string
	// params gives the fault's params on node x1 or x2.
	params func(node string) map[string]string
	// y1 is the kind of x1's peer.
	y1 string
	// passivePeers makes y1 and y2 passive; restart restarts the faulted
	// node's protocols after the inject (SNAT translates new connections
	// only).
	passivePeers, restart bool
	// node and peer are what the faulted node and its peer show, in order.
	node, peer []seen
	// peerLog is a line the peer's bird.log must hold, with %s for the
	// faulted node's SNAT address.
	peerLog string
}

// TestNetworkFaultsOnBIRD injects each network fault on a BIRD 1.6 node
// and a BIRD 2 node with established sessions, checks what BIRD shows at
// both ends (docs/faults.md quotes it), heals and waits for Established.
func TestNetworkFaultsOnBIRD(t *testing.T) {
	requireBIRD(t)
	// Build the GoBGP agent before any lab is up: a build takes both cores
	// for a while, which is no time to time BGP sessions.
	useBuiltAgent(t)
	holdThenConnect := []seen{{lastError: errHoldTimer}, {states: []string{"Connect"}, lastError: errHoldTimer}}
	snatAddr := map[string]string{"x1": "10.0.0.201", "x2": "10.0.0.203"}
	for _, tc := range []netFaultCase{
		{
			fault: "tcp179-drop",
			node:  holdThenConnect,
			peer:  holdThenConnect,
		},
		{
			// x1's peer is a GoBGP node here.
			fault: "tcp179-reject", y1: topology.KindGoBGP,
			node: []seen{{lastError: errReset}, {states: []string{"Active"}, lastError: errRefused}},
			peer: []seen{{lastError: errReset}, {states: []string{"Active"}, lastError: errRefused}},
		},
		{
			fault: "icmp-unreachable",
			node:  []seen{{lastError: errHoldTimer}, {states: []string{"Active"}, lastError: errNoRoute}},
			peer:  []seen{{lastError: errHoldTimer}, {states: []string{"Active"}, lastError: errNoRoute}},
		},
		{
			fault: "link-down",
			node:  []seen{{lastError: errHoldTimer}, {states: []string{"Active"}, lastError: errNetUnreach}},
			peer:  holdThenConnect,
		},
		{
			fault:  "netem",
			params: func(string) map[string]string { return map[string]string{"loss": "100"} },
			node:   holdThenConnect,
			peer:   holdThenConnect,
		},
		{
			fault:        "snat-node-traffic",
			params:       func(n string) map[string]string { return map[string]string{"address": snatAddr[n]} },
			passivePeers: true, restart: true,
			node:    []seen{{states: []string{"Active"}, lastErrors: []string{errClosed, errReset}}},
			peerLog: "Unexpected connect from unknown address %s",
		},
	} {
		t.Run(tc.fault, func(t *testing.T) {
			t.Parallel()
			y1 := tc.y1
			if y1 == "" {
				y1 = topology.KindBIRD2
			}
			fl := upFaultLab(t, faultTopology(faultLabName(t), y1, tc.passivePeers))
			var faults []*topology.Fault
			var injected time.Time
			for _, p := range faultPairs {
				f := &topology.Fault{Name: tc.fault, Node: p.node}
				if tc.params != nil {
					f.Params = tc.params(p.node)
				}
				faults = append(faults, f)
				injected = fl.inject(f)
			}
			if tc.restart {
				for _, p := range faultPairs {
					fl.birdCmd(p.node, "restart all")
				}
			}
			fl.checkEnds(tc, injected)
			fl.logReport()
			var healed time.Time
			for _, f := range faults {
				healed = fl.heal(f)
			}
			for _, p := range faultPairs {
				fl.waitEstablished(p.node, p.peer, healed)
				fl.waitEstablished(p.peer, p.node, healed)
			}
		})
	}
}

// checkEnds waits for what tc says each end of each faulted session
// shows; a GoBGP peer must just leave Established.
func (fl *faultLab) checkEnds(tc netFaultCase, since time.Time) {
	fl.t.Helper()
	for _, p := range faultPairs {
		fl.expectSeq(p.node, p.peer, since, tc.node...)
		if _, isBIRD := fl.Node(p.peer).(*birdNode); !isBIRD {
			fl.w.waitFor(fl.t, p.peer, p.node, since, "not Established", func(s SessionStatus) bool { return !s.Established() })
			continue
		}
		fl.expectSeq(p.peer, p.node, since, tc.peer...)
		if tc.peerLog != "" {
			line := fmt.Sprintf(tc.peerLog, tc.params(p.node)["address"])
			fl.waitLog(p.peer, line)
		}
	}
	fl.t.Logf("%s at x1 and y1:\n%s\n%s", tc.fault, fl.showProtocols("x1"), fl.showProtocols("y1"))
}

// birdCmd runs a control socket command on a BIRD node.
func (fl *faultLab) birdCmd(node, line string) {
	fl.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := fl.Node(node).(*birdNode).cmd(ctx, func(c *bird.Client) error {
		_, err := c.Cmd(ctx, line)
		return err
	})
	if err != nil {
		fl.t.Fatalf("%s on %s: %v", line, node, err)
	}
}

// waitLog waits until a BIRD node's log holds s.
func (fl *faultLab) waitLog(node, s string) {
	fl.t.Helper()
	file := fl.Node(node).(*birdNode).paths.Log
	deadline := time.Now().Add(faultWait)
	for {
		data, err := os.ReadFile(file)
		if err == nil && strings.Contains(string(data), s) {
			return
		}
		if time.Now().After(deadline) {
			fl.t.Fatalf("%s's bird.log has no %q within %v; it ends:\n%s", node, s, faultWait, tail(file, 2000))
		}
		time.Sleep(200 * time.Millisecond)
	}
}
