package diagnose

import (
	"context"
	"fmt"
	"hash/fnv"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/peerlab/peerlab/exercise"
	"github.com/peerlab/peerlab/internal/bird"
	"github.com/peerlab/peerlab/lab"
	"github.com/peerlab/peerlab/lab/topology"
	"github.com/peerlab/peerlab/topologies"
)

// mixedCase is one fault in the shipped mixed-rr lab, where a GoBGP route
// reflector (rr1) serves a BIRD 1.6 node (node1), a BIRD 2 node (node2)
// and a GoBGP client (node3): the faults to inject (one session each,
// both BIRD versions at once where the fault allows) and the nodes to
// diagnose, each of which must name want as its top cause.
type mixedCase struct {
	name   string
	faults []topology.Fault
	// passiveRR makes the reflector the passive end of every session.
	passiveRR bool
	// prepare runs after the inject (e.g. restarts protocols), nil for none.
	prepare func(t *testing.T, l *lab.Lab, stateDir string)
	// down lists the sessions (local, remote) that must be down before
	// diagnosing; none means diagnose at once.
	down [][2]string
	// symptoms are (local, remote, text): the session must be down with
	// text in its last error or NOTIFICATION first.
	symptoms [][3]string
	// from are the nodes to diagnose.
	from []string
	want Cause
}

// mixedCases are the faults of a GoBGP route reflector with BIRD clients,
// each diagnosed from the BIRD ends and from the GoBGP end.
var mixedCases = []mixedCase{
	{name: "as-mismatch", faults: []topology.Fault{
		{Name: "as-mismatch", Node: "node2", Peer: "rr1"}, // BIRD 2 expects a wrong AS from the reflector
		{Name: "as-mismatch", Node: "rr1", Peer: "node1"}, // the reflector expects a wrong AS from BIRD 1.6
	}, down: [][2]string{{"node1", "rr1"}, {"node2", "rr1"}}, from: []string{"node1", "node2", "rr1"}, want: CauseASMismatch},
	{name: "router-id-conflict", faults: []topology.Fault{
		{Name: "router-id-conflict", Node: "node1", Peer: "rr1"},
		{Name: "router-id-conflict", Node: "node2", Peer: "rr1"},
	}, down: [][2]string{{"node1", "rr1"}, {"node2", "rr1"}},
		symptoms: [][3]string{{"rr1", "node1", "identifier"}, {"rr1", "node2", "identifier"}},
		from:     []string{"node1", "node2", "rr1"}, want: CauseRouterIDConflict},
	{name: "md5-mismatch", faults: []topology.Fault{
		{Name: "md5-mismatch", Node: "node1", Peer: "rr1"},
		{Name: "md5-mismatch", Node: "node2", Peer: "rr1"},
	}, down: [][2]string{{"node1", "rr1"}, {"node2", "rr1"}}, from: []string{"node1", "node2", "rr1"}, want: CauseMD5Mismatch},
	{name: "snat-node-traffic", faults: []topology.Fault{
		// the default SNAT address (TEST-NET-1): the reflector cannot answer it
		{Name: "snat-node-traffic", Node: "node1"},
		{Name: "snat-node-traffic", Node: "node2"},
	}, passiveRR: true, prepare: func(t *testing.T, l *lab.Lab, stateDir string) {
		birdRestartAll(t, stateDir, l.Topology().Name, "node1")
		birdRestartAll(t, stateDir, l.Topology().Name, "node2")
	}, down: [][2]string{{"node1", "rr1"}, {"node2", "rr1"}}, from: []string{"node1", "node2", "rr1"}, want: CauseSNATNodeTraffic},
	{name: "bad-timers", prepare: func(t *testing.T, l *lab.Lab, stateDir string) {
		// BIRD 1.6 takes a keepalive above the hold time; BIRD 2 refuses
		// it ("Keepalive time must be at most hold time") but takes one
		// equal to it.
		setTimers(t, stateDir, l.Topology().Name, "node1", "hold time 3;", "keepalive time 10;")
		setTimers(t, stateDir, l.Topology().Name, "node2", "hold time 3;", "keepalive time 3;")
	}, from: []string{"node1", "node2", "rr1"}, want: CauseBadTimers},
	{name: "port179-in-use", faults: []topology.Fault{
		{Name: "port179-in-use", Node: "node1"},
		{Name: "port179-in-use", Node: "node2"},
	}, down: [][2]string{{"node1", "rr1"}, {"node2", "rr1"}}, from: []string{"node1", "node2", "rr1"}, want: CausePort179InUse},
	{name: "about-to-break", faults: []topology.Fault{
		// diagnosed at once: every session is still Established
		{Name: "tcp179-drop", Node: "rr1"},
	}, from: []string{"node1", "node2", "rr1"}, want: CauseTCP179Dropped},
}

// TestLiveDiagnosisMixed diagnoses faults of the shipped mixed-rr lab
// from both ends: a GoBGP route reflector is a router, never a Calico node
// without BIRD, and its own word (NOTIFICATIONs, disconnect reasons) and
// the nftables rules of either end count.
func TestLiveDiagnosisMixed(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	src, err := os.ReadFile(filepath.Join("..", "topologies", "mixed-rr.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var jobs []liveJob
	for _, tc := range mixedCases {
		jobs = append(jobs, liveJob{tc.name, func(t *testing.T) { runMixedCase(t, src, tc) }})
	}
	runLabs(t, jobs)
}

// runMixedCase brings the mixed lab up under a name of its own, injects
// the case's faults, waits for the symptom and diagnoses each node, one
// after the other.
func runMixedCase(t *testing.T, src []byte, tc mixedCase) {
	text := strings.Replace(string(src), "name: mixed-rr", "name: "+labNameFor(t), 1)
	if tc.passiveRR {
		text = strings.Replace(text, "clients: [node1, node2, node3]", "clients: [node1, node2, node3]\n    passive: rr1", 1)
	}
	topo, err := topology.Parse("mixed-rr.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	l, stateDir := upLiveLab(t, topo)
	for _, n := range []string{"node1", "node2", "node3"} {
		waitSession(t, l, n, "rr1", true, 60*time.Second)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for i := range tc.faults {
		if err := l.InjectFault(ctx, &tc.faults[i]); err != nil {
			t.Fatalf("inject %s on %s: %v", tc.faults[i].Name, tc.faults[i].Node, err)
		}
	}
	if tc.prepare != nil {
		tc.prepare(t, l, stateDir)
	}
	for _, s := range tc.down {
		waitSession(t, l, s[0], s[1], false, 40*time.Second)
	}
	for _, s := range tc.symptoms {
		waitSessionError(t, l, s[0], s[1], s[2], 40*time.Second)
	}
	if len(tc.down) > 0 {
		time.Sleep(3 * time.Second) // BIRD retries once and records its error
	}
	for _, node := range tc.from {
		rep, _ := diagnoseFrom(t, stateDir, topo.Name, node)
		if got := topCause(rep); got != tc.want {
			t.Errorf("%s: top cause %s, want %s", node, got, tc.want)
		}
		for _, f := range rep.Findings {
			if f.Node == "rr1" && (f.Cause == CausePeerBirdDown || f.Cause == CausePort179InUse) {
				t.Errorf("%s: the GoBGP reflector diagnosed as a Calico node: %s %s", node, f.Cause, f.Summary)
			}
		}
	}
}

// labNameFor derives a lab name of at most 10 characters from the test.
func labNameFor(t testing.TB) string {
	h := fnv.New32a()
	fmt.Fprintf(h, "%s/%d", t.Name(), os.Getpid())
	return fmt.Sprintf("mx%08x", h.Sum32())
}

// setTimers rewrites the hold and keepalive time of node's bird.cfg (the
// lab renders "hold time 9;" and "keepalive time 3;") and reloads it.
func setTimers(t testing.TB, stateDir, labName, node, hold, keepalive string) {
	t.Helper()
	target := labNodeTarget(stateDir, labName, node)
	cfg := target.BirdConfigs[0]
	data, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(data), "hold time 9;", hold, 1)
	s = strings.Replace(s, "keepalive time 3;", keepalive, 1)
	if s == string(data) {
		t.Fatalf("%s: no timers to change", cfg)
	}
	if err := os.WriteFile(cfg, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	birdCmd(t, target, "configure")
}

// birdCmd runs a birdc command on the node's BIRD.
func birdCmd(t testing.TB, target NodeTarget, cmd string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sock := target.BirdSockets[0]
	if real, err := os.ReadFile(sock + ".path"); err == nil {
		sock = strings.TrimSpace(string(real))
	}
	c, err := bird.Dial(ctx, sock)
	if err != nil {
		t.Fatalf("bird on %s: %v", target.Name, err)
	}
	defer c.Close()
	if _, err := c.Cmd(ctx, cmd); err != nil {
		t.Fatalf("birdc %s on %s: %v", cmd, target.Name, err)
	}
}

// TestLiveDiagnosisHoldTimeExercise breaks the shipped hold-time-too-low
// exercise with its own break steps and diagnoses node1 (the symptom) and
// node2: the top cause is node2's timer config, not a lossy path.
func TestLiveDiagnosisHoldTimeExercise(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	e, err := exercise.Load(topologies.Exercises(), "hold-time-too-low")
	if err != nil {
		t.Fatal(err)
	}
	topo := *e.Topology
	topo.Name = labNameFor(t)
	l, stateDir := upLiveLab(t, &topo)
	waitSession(t, l, "node1", "node2", true, 60*time.Second)
	for _, st := range e.Break {
		target := labNodeTarget(stateDir, topo.Name, st.Node)
		if len(st.Run) > 0 && st.Run[0] == "birdc" {
			birdCmd(t, target, strings.Join(st.Run[1:], " "))
			continue
		}
		cmd := exec.Command(st.Run[0], st.Run[1:]...)
		cmd.Env = append(os.Environ(), "PEERLAB_NODE_DIR="+filepath.Join(lab.LabDir(stateDir, topo.Name), "nodes", st.Node))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("break step %v on %s: %v: %s", st.Run, st.Node, err, out)
		}
	}
	// The symptom the exercise describes: node1's hold timer expires.
	waitSessionError(t, l, "node1", "node2", "hold timer", 60*time.Second)
	for _, node := range []string{"node1", "node2"} {
		rep, live := diagnoseFrom(t, stateDir, topo.Name, node)
		if len(rep.Findings) == 0 || rep.Findings[0].Cause != CauseBadTimers || rep.Findings[0].Node != "node2" {
			t.Errorf("%s: top finding %v, want bad-timers on node2", node, got(rep.Findings))
		}
		if *updateCorpus && node == "node1" {
			saveCorpusCase(t, "lab-bad-timers", live, CauseBadTimers)
		}
	}
}

// waitSessionError waits until local's session with remote is down with
// a last error (or NOTIFICATION) containing text, case-insensitively.
func waitSessionError(t testing.TB, l *lab.Lab, local, remote, text string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ss, _ := l.Sessions(context.Background())
		for _, s := range ss {
			why := strings.ToLower(s.LastError + " " + s.Notification.String())
			if s.Local == local && s.Remote == remote && !s.Established() && strings.Contains(why, strings.ToLower(text)) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s->%s never went down with %q in %s (sessions: %+v)", local, remote, text, timeout, ss)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
