package diagnose

import (
	"context"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/peerlab/peerlab/internal/bird"
	"github.com/peerlab/peerlab/internal/testgate"
	"github.com/peerlab/peerlab/lab"
	"github.com/peerlab/peerlab/lab/topology"
)

// upLiveLab brings topo up in namespace mode under a fresh short state
// folder (BIRD's control socket path must stay short), publishes the
// state file that LabTarget and LabResolver read (lab.Up alone does not:
// the CLI's owner process does) and tears the lab down at cleanup.
func upLiveLab(t testing.TB, topo *topology.Topology) (*lab.Lab, string) {
	t.Helper()
	stateDir, err := os.MkdirTemp("", "dg")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(stateDir) })
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	l, err := lab.Up(ctx, topo, lab.Options{StateDir: stateDir, Mode: lab.ModeNamespace})
	if err != nil {
		t.Fatalf("lab %s up: %v", topo.Name, err)
	}
	t.Cleanup(func() { _ = l.Down() })
	kinds := map[string]string{}
	for _, n := range topo.Nodes {
		kinds[n.Name] = n.Kind
	}
	st := lab.LabState{Name: topo.Name, Mode: lab.ModeNamespace, PID: os.Getpid(), Nodes: kinds}
	if err := lab.WriteState(stateDir, st); err != nil {
		t.Fatal(err)
	}
	return l, stateDir
}

// requireNginx skips (or, with CI=true, fails) a test that needs nginx
// with the stream module for the kubespray-worker role.
func requireNginx(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("nginx"); err == nil {
		return
	}
	if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
		return
	}
	testgate.SkipOrFail(t, "needs nginx (.ci/install-daemons.sh)")
}

// diagnoseFrom runs a live diagnosis of node in the running lab and logs
// the report.
func diagnoseFrom(t testing.TB, stateDir, labName, node string) (Report, *Live) {
	t.Helper()
	target, err := LabTarget(stateDir, labName, node)
	if err != nil {
		t.Fatal(err)
	}
	resolve, err := LabResolver(stateDir, labName)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rep, live := DiagnoseLive(ctx, target, resolve, LiveOptions{})
	var text strings.Builder
	_ = WriteReport(&text, rep, "text")
	t.Logf("%s: took %s\n%s", node, live.Took, text.String())
	if os.Getenv("PEERLAB_DIAGNOSE_DEBUG") != "" {
		for _, e := range rep.Evidence {
			if strings.HasPrefix(e.Kind, "probe-session") || e.Kind == "lab-router-sessions" {
				t.Logf("%s: %s", e.Source, strings.Join(e.Lines, " | "))
			}
		}
	}
	return rep, live
}

// topCause is the cause of rep's first finding, or "none".
func topCause(rep Report) Cause {
	if len(rep.Findings) == 0 {
		return "none"
	}
	return rep.Findings[0].Cause
}

// maxLabs bounds the labs a test runs at once: t.Parallel alone is
// limited by -parallel (GOMAXPROCS, 2 here), while a lab mostly waits.
const maxLabs = 6

// liveJob is one named lab case.
type liveJob struct {
	name string
	run  func(t *testing.T)
}

// runLabs runs each job as a subtest of t, at most maxLabs at once, each
// in its own goroutine (t.Run may be called from several goroutines; all
// return before runLabs does).
func runLabs(t *testing.T, jobs []liveJob) {
	t.Helper()
	if len(jobs) == 0 {
		t.Fatal("no lab cases")
	}
	sem := make(chan struct{}, maxLabs)
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			t.Run(j.name, j.run)
		}()
	}
	wg.Wait()
}

// passiveOpt is the topology peering option that makes node the passive
// end, or nothing when node is empty.
func passiveOpt(node string) string {
	if node == "" {
		return ""
	}
	return ", passive: " + node
}

// snatSetup: node n's new connections leave from .201 of the lab segment
// (an address p can answer but no protocol names); p is passive, so only
// n's translated connections can bring the session up, and n's protocols
// restart so that it opens one.
var snatSetup = &liveSetup{
	passive: "p",
	params: func(l *lab.Lab) map[string]string {
		for _, n := range l.Topology().Nodes {
			if n.Name == "n" {
				a := n.Address.As4()
				a[3] = 201
				return map[string]string{"address": netip.AddrFrom4(a).String()}
			}
		}
		return nil
	},
	restart: true,
}

// birdRestartAll restarts every protocol of node's BIRD through its
// control socket.
func birdRestartAll(t testing.TB, stateDir, labName, node string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := bird.Dial(ctx, labNodeTarget(stateDir, labName, node).BirdSockets[0])
	if err != nil {
		t.Fatalf("bird on %s: %v", node, err)
	}
	defer c.Close()
	if _, err := c.Cmd(ctx, "restart all"); err != nil {
		t.Fatalf("restart all on %s: %v", node, err)
	}
}

// topEvidenceHas reports whether one of the evidence lines of rep's first
// finding contains s.
func topEvidenceHas(rep Report, s string) bool {
	if len(rep.Findings) == 0 {
		return false
	}
	for _, e := range rep.Findings[0].Evidence {
		if strings.Contains(e, s) {
			return true
		}
	}
	return false
}
