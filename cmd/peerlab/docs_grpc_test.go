package main

import (
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// grpcExpect is what a documented grpcurl call must print.
type grpcExpect struct {
	// want must all appear in stdout; wantRE must match it.
	want   []string
	wantRE string
	// not must not appear in stdout.
	not []string
	// codes are the exit statuses accepted besides 0 (68: grpcurl's
	// DeadlineExceeded after -max-time on a stream).
	codes []int
	// eventually retries the call for up to 20 s until it prints what is
	// wanted (a route takes a moment to reach the peer).
	eventually bool
}

// grpcExpects holds, per method (or grpcurl verb), what its documented call
// prints. A documented call of a method missing here fails the test, so a
// new example cannot go untested.
var grpcExpects = map[string]grpcExpect{
	"list":                               {want: []string{"peerlab.v1.LabService", "peerlab.v1.DiagnosisService", "grpc.reflection.v1.ServerReflection"}},
	"describe":                           {want: []string{"rpc CreateLab", "rpc WatchLab"}},
	"peerlab.v1.LabService/CreateLab":    {want: []string{`"state": "LAB_STATE_RUNNING"`}},
	"peerlab.v1.LabService/GetLab":       {want: []string{`"name": "quickstart"`, `"state": "LAB_STATE_RUNNING"`}},
	"peerlab.v1.LabService/WatchLab":     {want: []string{`"session"`, "Established"}, codes: []int{68}},
	"peerlab.v1.LabService/DeleteLab":    {want: []string{"{"}},
	"peerlab.v1.SpeakerService/AddPaths": {want: []string{`"added": "1"`}},
	"peerlab.v1.SpeakerService/AddPathsStream": {
		want: []string{`"added": "2"`},
	},
	// Routes added through the API carry node1's lab address as next hop,
	// as its topology routes do, not its loopback bind address.
	"peerlab.v1.SpeakerService/ListRib": {
		wantRE:     `(?s)"prefix": "10\.8\.0\.0/24",\s*"nextHop": "10\.0\.0\.1".*"prefix": "10\.9\.1\.0/24",\s*"nextHop": "10\.0\.0\.1"|(?s)"prefix": "10\.9\.1\.0/24",\s*"nextHop": "10\.0\.0\.1".*"prefix": "10\.8\.0\.0/24",\s*"nextHop": "10\.0\.0\.1"`,
		not:        []string{`"nextHop": "127.`},
		eventually: true,
	},
	"peerlab.v1.DiagnosisService/DiagnoseArtifacts": {want: []string{`"findings"`, "as-mismatch"}},
	"peerlab.v1.DiagnosisService/DiagnoseNode":      {want: []string{`"rendered"`, `"node": "node1"`}},
	"peerlab.v1.FaultService/InjectFault":           {want: []string{"{"}},
	"peerlab.v1.FaultService/HealFault":             {want: []string{"{"}},
	"peerlab.v1.CaptureService/StartCapture":        {want: []string{`"cap-1"`}},
	"peerlab.v1.CaptureService/WatchDecoded":        {codes: []int{68}},
	"peerlab.v1.CaptureService/StopCapture":         {want: []string{"{"}},
	"peerlab.v1.CaptureService/DownloadCapture":     {want: []string{`"chunk"`}},
}

// grpcMethod is the method (or verb) a grpcurl line calls: its last word.
func grpcMethod(line string) string {
	f := strings.Fields(line)
	last := f[len(f)-1]
	if slices.Contains(f, "describe") {
		return "describe"
	}
	return last
}

// checkGRPC runs one documented grpcurl line and checks what it printed.
func checkGRPC(t *testing.T, sh *docShell, line string) {
	t.Helper()
	method := grpcMethod(line)
	exp, ok := grpcExpects[method]
	if !ok {
		t.Fatalf("documented call %q: the test has no expectation for %s; add one to grpcExpects", line, method)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		r := sh.run(line, 2*time.Minute)
		problem := ""
		switch {
		case r.code != 0 && !slices.Contains(exp.codes, r.code):
			problem = "exit status " + strconv.Itoa(r.code)
		case exp.wantRE != "" && !regexp.MustCompile(exp.wantRE).MatchString(r.stdout):
			problem = "output does not match " + exp.wantRE
		}
		for _, w := range exp.want {
			if problem == "" && !strings.Contains(r.stdout, w) {
				problem = "output lacks " + w
			}
		}
		for _, n := range exp.not {
			if problem == "" && strings.Contains(r.stdout, n) {
				problem = "output has " + n
			}
		}
		if problem == "" {
			t.Logf("ok: %s", line)
			return
		}
		if !exp.eventually || time.Now().After(deadline) {
			t.Fatalf("documented call failed: %s\n%s\nstdout:\n%s\nstderr:\n%s", line, problem, r.stdout, r.stderr)
		}
		time.Sleep(time.Second)
	}
}

// TestDocsGRPCurl runs every grpcurl line of docs/grpc.md against a real
// `peerlab serve` on a Unix socket (and a lab's own control socket), as a
// reader pastes them from the repository's folder: those on the namespace
// lab calico-bird-mesh need root and BIRD (skipped outside CI, a failure
// with CI=true). Afterwards nothing of the labs is left in the state
// folders.
func TestDocsGRPCurl(t *testing.T) {
	examples := docExamples(t, "docs/grpc.md")
	all := commandsMatching(examples, regexp.MustCompile(`(^|\| *)grpcurl `))
	if len(all) < 15 {
		t.Fatalf("docs/grpc.md has %d grpcurl lines, want at least 15", len(all))
	}
	e := newLabEnv(t)
	e.names = append(e.names, "quickstart", "calico-bird-mesh")
	root, err := filepath.Abs(repoFile("."))
	if err != nil {
		t.Fatal(err)
	}
	ran := 0

	t.Run("lab control socket", func(t *testing.T) {
		ex := exampleRunning(t, examples, "peerlab up -d --wait quickstart")
		sh := newDocShell(t, root, e.dir, []string{"PEERLAB_MODE=loopback", "PEERLAB_PORT=" + strconv.Itoa(20000+os.Getpid()%20000)}, "/run/peerlab", e.dir)
		for _, c := range ex.Commands {
			if strings.Contains(c, "grpcurl ") {
				checkGRPC(t, sh, c)
				ran++
				continue
			}
			r := sh.run(c, 3*time.Minute)
			if r.code != 0 {
				t.Fatalf("%s: exit %d\n%s%s", c, r.code, r.stdout, r.stderr)
			}
			// up --wait returns once the expectations are decided.
			if strings.Contains(c, "--wait") && (!strings.Contains(r.stdout, "PASS    established node1 <-> node2") ||
				!strings.Contains(r.stdout, "the lab has settled")) {
				t.Errorf("%s printed no settled expectations:\n%s", c, r.stdout)
			}
		}
		for _, left := range []string{"labs/quickstart", "logs/quickstart.log", "topologies/quickstart.yaml"} {
			if _, err := os.Stat(filepath.Join(e.dir, left)); err == nil {
				t.Errorf("%s left after peerlab down", left)
			}
		}
	})

	t.Run("serve", func(t *testing.T) {
		ex := exampleRunning(t, examples, "peerlab serve --state-dir /tmp/pl &")
		plDir := filepath.Join(e.dir, "pl")
		sh := newDocShell(t, root, plDir, nil, "/tmp/pl", plDir)
		var rootOnly []string
		for i, c := range ex.Commands {
			if strings.Contains(c, "calico-bird-mesh") {
				rootOnly = ex.Commands[i:]
				break
			}
			switch {
			case strings.HasPrefix(c, "peerlab serve "):
				sh.background(c)
				waitFile(t, filepath.Join(plDir, "serve.sock"), 30*time.Second)
			case strings.Contains(c, "grpcurl "):
				checkGRPC(t, sh, c)
				ran++
			default:
				if r := sh.run(c, time.Minute); r.code != 0 {
					t.Fatalf("%s: exit %d\n%s%s", c, r.code, r.stdout, r.stderr)
				}
			}
		}
		// DeleteLab took the lab and what serve kept for it away.
		for _, f := range []string{"quickstart.yaml", "quickstart.log", "quickstart.stderr", "quickstart.sock"} {
			if _, err := os.Stat(filepath.Join(plDir, "serve", f)); err == nil {
				t.Errorf("serve/%s left after DeleteLab", f)
			}
		}
		if len(rootOnly) == 0 {
			t.Fatal("docs/grpc.md: no example on the namespace lab calico-bird-mesh")
		}
		t.Run("namespace lab", func(t *testing.T) {
			requireRoot(t, append(birdBinaries, "nft")...)
			for _, c := range rootOnly {
				checkGRPC(t, sh, c)
				ran++
			}
		})
	})
	t.Run("token over TCP", func(t *testing.T) {
		ex := exampleRunning(t, examples, "peerlab serve --listen 127.0.0.1:7179 &")
		tokDir := filepath.Join(e.dir, "tok")
		if err := os.MkdirAll(tokDir, 0o700); err != nil {
			t.Fatal(err)
		}
		// The documented port is a free one here: tests share no fixed port.
		probe, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := probe.Addr().String()
		probe.Close()
		sh := newDocShell(t, root, tokDir, nil, "/run/peerlab", tokDir, "127.0.0.1:7179", addr)
		for _, c := range ex.Commands {
			switch {
			case strings.HasPrefix(c, "peerlab serve "):
				sh.background(c)
				waitFile(t, filepath.Join(tokDir, "serve.token"), 30*time.Second)
			case strings.Contains(c, "grpcurl "):
				checkGRPC(t, sh, c)
				ran++
			}
		}
		// Without the token the same call is refused.
		if r := sh.run("grpcurl -plaintext 127.0.0.1:7179 list", time.Minute); r.code == 0 || !strings.Contains(r.stderr, "Unauthenticated") {
			t.Errorf("grpcurl without the token: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	})
	if !t.Failed() && os.Geteuid() == 0 && ran != len(all) {
		t.Errorf("ran %d of the %d documented grpcurl lines", ran, len(all))
	}
}
