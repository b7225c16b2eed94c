package diagnose

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/peerlab/peerlab/internal/netns"
	"github.com/peerlab/peerlab/lab"
	"github.com/peerlab/peerlab/lab/topology"
)

// hostChildEnv, when set in the environment of this test binary, makes it
// a host-mode diagnosis child instead of a test run: the value is the
// JSON of the HostPaths to diagnose with; the child prints the report as
// JSON on stdout and exits.
const hostChildEnv = "PEERLAB_DIAGNOSE_HOST_CHILD"

func TestMain(m *testing.M) {
	// Namespace labs start their nodes' inits by re-executing this binary.
	if code, ok := lab.RunBuiltin(os.Args); ok {
		os.Exit(code)
	}
	if v := os.Getenv(hostChildEnv); v != "" {
		os.Exit(hostChild(v))
	}
	os.Exit(m.Run())
}

// hostChild runs a host-mode diagnosis with the paths in pathsJSON, in
// whatever network namespace this process was started in.
func hostChild(pathsJSON string) int {
	var p HostPaths
	if err := json.Unmarshal([]byte(pathsJSON), &p); err != nil {
		fmt.Fprintln(os.Stderr, "host child:", err)
		return 2
	}
	rep, _ := DiagnoseLive(context.Background(), HostTarget(p), nil, LiveOptions{})
	if err := WriteReport(os.Stdout, rep, "json"); err != nil {
		fmt.Fprintln(os.Stderr, "host child:", err)
		return 2
	}
	return 0
}

// TestHostDiagnosis runs host mode as it runs on a real node: this test
// binary started again inside a lab node's namespace (so the probes, the
// /proc listeners and the capture see that node as "this host"), with the
// --bird-socket/--bird-config/... paths pointed at the node's files.
func TestHostDiagnosis(t *testing.T) {
	requireRoot(t)
	t.Parallel() // the live tests overlap: their labs mostly wait
	l, stateDir, name := liveLab(t, "bird", "bird")
	waitSession(t, l, "n", "p", true, 40*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := l.InjectFault(ctx, &topology.Fault{Name: "as-mismatch", Node: "n", Peer: "p"}); err != nil {
		t.Fatalf("inject as-mismatch: %v", err)
	}
	waitSession(t, l, "n", "p", false, 40*time.Second)
	time.Sleep(3 * time.Second)

	node := labNodeTarget(stateDir, name, "n")
	paths := HostPaths{
		BirdSocket:   node.BirdSockets[0],
		BirdConfig:   node.BirdConfigs[0],
		BirdLog:      node.BirdLogs[0],
		CalicoLogDir: node.CalicoLogDir,
		Manifests:    node.ManifestsDir,
		NginxConf:    node.NginxConf,
		Interface:    node.Interface,
	}
	js, err := json.Marshal(paths)
	if err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), hostChildEnv+"="+string(js))
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := netns.StartProcessAt(node.NSPath, cmd); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("host-mode child: %v\nstderr: %s", err, stderr.String())
	}
	var rep Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("host-mode child's report: %v\n%s", err, stdout.String())
	}
	t.Logf("host-mode report:\n%s", stdout.String())
	if got := topCause(rep); got != CauseASMismatch {
		t.Fatalf("top cause %s, want %s", got, CauseASMismatch)
	}
	if rep.Findings[0].Confidence != High {
		t.Errorf("confidence %s, want high", rep.Findings[0].Confidence)
	}
	// The finding rests on this "host"'s own BIRD, read through the
	// given paths.
	var fromBird bool
	for _, e := range rep.Findings[0].Evidence {
		fromBird = fromBird || strings.Contains(e, "birdc-show-protocols") || strings.Contains(e, "bird.log")
	}
	if !fromBird {
		t.Errorf("evidence does not quote the host's BIRD: %q", rep.Findings[0].Evidence)
	}
	// The probe ran in the node's namespace: the peer's address is only
	// reachable there.
	var probed bool
	for _, e := range rep.Evidence {
		if e.Kind != "probe-session" {
			continue
		}
		for _, line := range e.Lines {
			probed = probed || strings.Contains(line, ": connected")
		}
	}
	if !probed {
		t.Errorf("no session probe connected to the peer from the host's namespace")
	}
}
