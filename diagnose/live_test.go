package diagnose

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/peerlab/peerlab/internal/testgate"
	"github.com/peerlab/peerlab/lab"
	"github.com/peerlab/peerlab/lab/topology"
)

var updateCorpus = flag.Bool("update-corpus", false, "save the evidence of the live lab tests under testdata/artifacts/lab-<case>")

// requireRoot skips a test that needs root and namespaces, except in CI
// (CI=true), where it fails instead.
func requireRoot(t testing.TB) {
	t.Helper()
	testgate.RequireRoot(t, "network namespaces, BIRD")
}

// liveLab brings up a two-node lab n (10.x.y.1) -- p (10.x.y.2) of the
// given kinds in namespace mode and tears it down at cleanup.
func liveLab(t testing.TB, kn, kp string) (*lab.Lab, string, string) {
	t.Helper()
	return liveLabWith(t, kn, kp, "")
}

// liveLabWith is liveLab with the peering's passive end set (none when
// passive is empty).
func liveLabWith(t testing.TB, kn, kp, passive string) (*lab.Lab, string, string) {
	t.Helper()
	h := fnv.New32a()
	fmt.Fprintf(h, "%s/%d", t.Name(), os.Getpid())
	sum := h.Sum32()
	name := fmt.Sprintf("dg%08x", sum)
	net := fmt.Sprintf("10.%d.%d", 100+sum%100, (sum>>8)%250)
	src := fmt.Sprintf(`name: %s
defaults: {asn: 64512, timers: {hold: 9s, keepalive: 3s, connect-retry: 1s}}
nodes:
  n: {kind: %s, address: %s.1, prefixes: [10.244.1.0/24]}
  p: {kind: %s, address: %s.2, prefixes: [10.244.2.0/24]}
peerings:
  - {between: [n, p]%s}
`, name, kn, net, kp, net, passiveOpt(passive))
	topo, err := topology.Parse(name+".yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	// A short state folder keeps BIRD's control socket path short.
	stateDir, err := os.MkdirTemp("", "dg")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(stateDir) })
	l, err := lab.Up(context.Background(), topo, lab.Options{StateDir: stateDir, Mode: lab.ModeNamespace})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Down() })
	// Up alone publishes no state file (the CLI's owner process does).
	st := lab.LabState{Name: name, Mode: lab.ModeNamespace, PID: os.Getpid(), Nodes: map[string]string{"n": kn, "p": kp}}
	if err := lab.WriteState(stateDir, st); err != nil {
		t.Fatal(err)
	}
	return l, stateDir, name
}

// liveCase is one fault a two-node lab reproduces: where it is injected
// (on, and peer for faults on one session), the node that shows the
// symptom and the expected top cause.
type liveCase struct {
	name, fault, on, peer, from string
	want                        Cause
	// setup is the extra a case needs, nil for none.
	setup *liveSetup
}

// liveSetup is what a few cases need beyond inject and wait.
type liveSetup struct {
	// passive is the peering's passive end ("" for none).
	passive string
	// params gives the fault's params in the running lab.
	params func(l *lab.Lab) map[string]string
	// restart restarts the faulted node's BGP protocols after the inject
	// (SNAT translates new connections only).
	restart bool
	// settle is how long to wait after the symptom (default 3 s).
	settle time.Duration
	// evidence, when set, must be in one of the top finding's evidence
	// lines.
	evidence string
}

// liveCases are the faults a two-node lab reproduces, where they are
// injected, the node that shows the symptom and the expected top cause.
var liveCases = []liveCase{
	{"tcp179-drop", "tcp179-drop", "p", "", "n", CauseTCP179Dropped, nil},
	{"tcp179-reject", "tcp179-reject", "p", "", "n", CauseTCP179Rejected, nil},
	{"icmp-unreachable", "icmp-unreachable", "p", "", "n", CauseTCP179Rejected, nil},
	{"link-down", "link-down", "p", "", "n", CauseNoRouteToPeer, nil},
	{"bird-down", "bird-down", "p", "", "n", CausePeerBirdDown, nil},
	{"bird-unconfigured", "bird-unconfigured", "p", "", "n", CausePeerBirdUnconfigured, nil},
	{"port179-in-use", "port179-in-use", "p", "", "n", CausePort179InUse, nil},
	{"as-mismatch", "as-mismatch", "n", "p", "n", CauseASMismatch, nil},
	{"router-id-conflict", "router-id-conflict", "n", "p", "n", CauseRouterIDConflict, nil},
	{"md5-one-sided", "md5-one-sided", "n", "p", "n", CauseMD5Mismatch, nil},
	{"source-ip-missing", "source-ip-missing", "n", "", "n", CauseSourceIPMissing, nil},
	{"hold-timer-expired", "hold-timer-expiry", "p", "", "n", CauseHoldTimerExpired, &liveSetup{evidence: "BIRD is hung"}},
	{"wrong-ip-autodetect-peer", "wrong-ip-autodetect", "n", "", "p", CauseWrongIPAutodetect, nil},
	{"wrong-ip-autodetect-node", "wrong-ip-autodetect", "n", "", "n", CauseWrongIPAutodetect, nil},
	{"snat-node-traffic-peer", "snat-node-traffic", "n", "", "p", CauseSNATNodeTraffic, snatSetup},
	{"snat-node-traffic-node", "snat-node-traffic", "n", "", "n", CauseSNATNodeTraffic, snatSetup},
}

// liveKinds are the BIRD kinds the live cases run on; skip lists the
// cases that do not apply to a kind.
var liveKinds = []struct {
	kinds [2]string
	skip  map[string]bool
}{
	{[2]string{"bird", "bird"}, nil},
	{[2]string{"bird2", "bird2"}, nil},
}

func TestLiveDiagnosis(t *testing.T) {
	requireRoot(t)
	t.Parallel() // the live tests overlap: their labs mostly wait
	var jobs []liveJob
	for _, k := range liveKinds {
		for _, tc := range liveCases {
			if k.skip[tc.name] {
				continue
			}
			jobs = append(jobs, liveJob{k.kinds[0] + "/" + tc.name, func(t *testing.T) { runLiveCase(t, k.kinds, tc) }})
		}
	}
	runLabs(t, jobs)
}

// runLiveCase brings up a two-node lab of kinds, injects the case's
// fault, waits for the symptom and diagnoses the symptomatic node live.
func runLiveCase(t *testing.T, kinds [2]string, tc liveCase) {
	setup := tc.setup
	if setup == nil {
		setup = &liveSetup{}
	}
	l, stateDir, name := liveLabWith(t, kinds[0], kinds[1], setup.passive)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	other := "p"
	if tc.from == "p" {
		other = "n"
	}
	waitSession(t, l, tc.from, other, true, 40*time.Second)
	f := &topology.Fault{Name: tc.fault, Node: tc.on, Peer: tc.peer}
	if setup.params != nil {
		f.Params = setup.params(l)
	}
	if err := l.InjectFault(ctx, f); err != nil {
		t.Fatalf("inject %s: %v", tc.fault, err)
	}
	if setup.restart {
		birdRestartAll(t, stateDir, name, tc.on)
	}
	// The symptom: the session is down where it is diagnosed (a silent
	// fault shows once the 9 s hold timer expires); then BIRD retries once
	// and records its error.
	waitSession(t, l, tc.from, other, false, 40*time.Second)
	settle := setup.settle
	if settle == 0 {
		settle = 3 * time.Second
	}
	time.Sleep(settle)
	rep, live := diagnoseFrom(t, stateDir, name, tc.from)
	if got := topCause(rep); got != tc.want {
		t.Errorf("top cause %s, want %s", got, tc.want)
	}
	if setup.evidence != "" && !topEvidenceHas(rep, setup.evidence) {
		t.Errorf("top finding's evidence lacks %q", setup.evidence)
	}
	if *updateCorpus && kinds[0] == "bird" {
		saveCorpusCase(t, "lab-"+tc.name, live, tc.want)
	}
}

// waitSession waits until local's view of its session with remote is
// Established (or not, as up says).
func waitSession(t *testing.T, l *lab.Lab, local, remote string, up bool, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ss, _ := l.Sessions(context.Background())
		for _, s := range ss {
			if s.Local == local && s.Remote == remote && s.Established() == up {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s->%s never became Established=%v in %s (sessions: %+v)", local, remote, up, timeout, ss)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

var corpusMu sync.Mutex

// saveCorpusCase writes the gathered text as an artifacts case. Its
// expected.json is what the artifacts diagnosis concludes from the text
// alone (probes are not in it) when that is the live cause want; when the
// text does not reach it, the honest answer is a low guess: the case
// accepts the causes the text suggests (and want) at low confidence, so a
// rule that later claims more fails it.
func saveCorpusCase(t *testing.T, name string, live *Live, want Cause) {
	corpusMu.Lock()
	defer corpusMu.Unlock()
	dir := filepath.Join("testdata", "artifacts", name)
	_ = os.RemoveAll(dir)
	if err := SaveArtifacts(dir, live.Artifacts); err != nil {
		t.Fatal(err)
	}
	c, err := LoadArtifacts([]string{dir}, ArtifactOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rep := Diagnose(c)
	exp := map[string]any{"healthy": rep.Healthy}
	switch {
	case len(rep.Findings) > 0 && rep.Findings[0].Cause == want:
		exp["cause"], exp["confidence"] = rep.Findings[0].Cause, rep.Findings[0].Confidence
	case len(rep.Findings) > 0:
		causes := []Cause{want, CauseUnknown}
		for _, f := range rep.Findings {
			if !slices.Contains(causes, f.Cause) {
				causes = append(causes, f.Cause)
			}
		}
		exp["causes"], exp["max_confidence"] = causes, Low
	}
	data, _ := json.Marshal(exp)
	if err := os.WriteFile(filepath.Join(dir, "expected.json"), append(data, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	_ = WriteReport(&text, rep, "text")
	if err := os.WriteFile(filepath.Join("testdata", "golden", name+".txt"), []byte(text.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkLiveDiagnosis measures a live diagnosis of a node whose peer
// drops TCP 179 (the worst case: the connect probe times out).
func BenchmarkLiveDiagnosis(b *testing.B) {
	requireRoot(b)
	l, stateDir, name := liveLab(b, "bird", "bird")
	ctx := context.Background()
	if err := l.InjectFault(ctx, &topology.Fault{Name: "tcp179-drop", Node: "p"}); err != nil {
		b.Fatal(err)
	}
	target, err := LabTarget(stateDir, name, "n")
	if err != nil {
		b.Fatal(err)
	}
	resolve, err := LabResolver(stateDir, name)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		rep, _ := DiagnoseLive(ctx, target, resolve, LiveOptions{})
		if len(rep.Findings) == 0 {
			b.Fatal("no findings")
		}
	}
}
