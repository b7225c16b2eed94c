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
// time over the peer's).
//
//	go test -run '^$' -bench ProcessStart -benchtime 200x ./cmd/peerlab/
func BenchmarkProcessStart(b *testing.B) {
	bin := peerlabBinary(b)
	bare := bareGoBinary(b)
	starts := []processStart{{name: "peerlab", path: bin, peerlab: true}, {name: "bare", path: bare}}
	if peer := os.Getenv("PEERLAB_BENCH_PEER_BIN"); peer != "" {
		starts = append(starts, processStart{name: "peer", path: peer, peerlab: true})
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
	if len(starts) == 3 {
		b.ReportMetric(float64(starts[0].took)/float64(starts[2].took), "x-peer")
	}
}

// processStart is one program BenchmarkProcessStart starts, and the
// time its starts took.
type processStart struct {
	name, path string
	peerlab    bool // a peerlab binary: it must answer as the builtin
	took       time.Duration
}

// run starts the program as `peerlab-init` with no argument and checks
// that it took the builtin's usage exit (2), so what is timed is the
// dispatch path a lab node takes, not a failed exec.
func (s processStart) run(b *testing.B) {
	b.Helper()
	var stderr bytes.Buffer
	cmd := &exec.Cmd{Path: s.path, Args: []string{"peerlab-init"}, Stderr: &stderr}
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		b.Fatalf("%s as peerlab-init: %v, want exit status 2\n%s", s.path, err, stderr.String())
	}
	if s.peerlab && !strings.Contains(stderr.String(), "usage: peerlab-init") {
		b.Fatalf("%s as peerlab-init did not print the builtin's usage:\n%s", s.path, stderr.String())
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
