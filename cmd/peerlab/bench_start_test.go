package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/peerlab/peerlab/lab"
	"github.com/peerlab/peerlab/lab/agent"
)

// BenchmarkProcessStart measures what every node process of a namespace
// lab pays before it does anything: the peerlab binary started under the
// name of a builtin (peerlab-init, as the lab starts each node's init;
// with no argument it prints its usage and exits 2 right after package
// initialisation). A lab of N nodes starts about 2N such processes.
//
// Each iteration starts, alternately, the peerlab binary and a bare Go
// program that exits at once (the floor: runtime start only), both built
// in this run, so the ratio x-bare holds under a loaded machine. Set
// PEERLAB_BENCH_PEER_BIN to another peerlab binary (say one built from
// main) to measure it alternately too, reported as x-peer (this binary's
// time over the peer's). It also starts a gobgp node's agent both ways,
// peerlab as gobgpd and peerlab-gobgpd: x-agent is the second's time over
// the first's.
//
//	go test -run '^$' -bench ProcessStart -benchtime 200x ./cmd/peerlab/
func BenchmarkProcessStart(b *testing.B) {
	bin := peerlabBinary(b)
	bare := bareGoBinary(b)
	starts := []processStart{
		{name: "peerlab", path: bin, argv0: "peerlab-init"},
		{name: "bare", path: bare},
		// A gobgp node's agent, from peerlab and from the agent program
		// make build puts beside it.
		{name: "agent-peerlab", path: bin, argv0: agent.ProcessName},
		{name: "agent", path: filepath.Join(filepath.Dir(bin), lab.AgentProgram), argv0: agent.ProcessName},
	}
	if peer := os.Getenv("PEERLAB_BENCH_PEER_BIN"); peer != "" {
		starts = append(starts, processStart{name: "peer", path: peer, argv0: "peerlab-init"})
	}
	for _, s := range starts {
		s.run(b) // warm the page cache
	}
	b.ResetTimer()
	for b.Loop() {
		for i := range starts {
			t0 := time.Now()
			starts[i].run(b)
			starts[i].took += time.Since(t0)
		}
	}
	n := float64(b.N)
	ms := func(d time.Duration) float64 { return float64(d) / n / float64(time.Millisecond) }
	for _, s := range starts {
		b.ReportMetric(ms(s.took), s.name+"-ms/start")
	}
	b.ReportMetric(float64(starts[0].took)/float64(starts[1].took), "x-bare")
	b.ReportMetric(float64(starts[3].took)/float64(starts[2].took), "x-agent")
	if len(starts) == 5 {
		b.ReportMetric(float64(starts[0].took)/float64(starts[4].took), "x-peer")
	}
}

// processStart is one program BenchmarkProcessStart starts, and the
// time its starts took.
type processStart struct {
	name, path string
	// argv0 is the builtin the program is started as, which must answer
	// with its usage; "" for the bare program.
	argv0 string
	took  time.Duration
}

// run starts the program as its builtin with no argument and checks that
// it took the builtin's usage exit (2), so what is timed is the dispatch
// path a lab node takes, not a failed exec.
func (s processStart) run(b *testing.B) {
	b.Helper()
	var stderr bytes.Buffer
	argv0 := s.argv0
	if argv0 == "" {
		argv0 = s.name
	}
	cmd := &exec.Cmd{Path: s.path, Args: []string{argv0}, Stderr: &stderr}
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		b.Fatalf("%s as %s: %v, want exit status 2\n%s", s.path, argv0, err, stderr.String())
	}
	if s.argv0 != "" && !strings.Contains(stderr.String(), "usage: "+s.argv0) {
		b.Fatalf("%s as %s did not print the builtin's usage:\n%s", s.path, argv0, stderr.String())
	}
}

// bareGoBinary builds a Go program that exits 2 at once, the floor of a
// Go process start on this machine.
func bareGoBinary(b *testing.B) string {
	b.Helper()
	dir := b.TempDir()
	files := map[string]string{
		"go.mod":  "module bare\n\ngo 1.26\n",
		"main.go": "package main\n\nimport \"os\"\n\nfunc main() { os.Exit(2) }\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	path := filepath.Join(dir, "bare")
	cmd := exec.Command("go", "build", "-o", path, ".")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("build the bare Go program: %v\n%s", err, out)
	}
	return path
}
