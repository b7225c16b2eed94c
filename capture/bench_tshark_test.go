package capture

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/peerlab/peerlab/internal/procstat"
	"github.com/peerlab/peerlab/internal/testgate"
)

// Environment of the decoding child of BenchmarkDecodeVsTshark: the test
// binary re-executed with these set decodes the file, prints a
// childResult as JSON and exits, so its peak RSS can be measured the way
// tshark's is.
const (
	envDecodeChild     = "PEERLAB_CAPTURE_DECODE_CHILD"
	envDecodeChildPort = "PEERLAB_CAPTURE_DECODE_CHILD_PORT"
)

// childResult is what the decoding child reports.
type childResult struct {
	Messages int64   `json:"messages"`
	Updates  int64   `json:"updates"`
	Events   int     `json:"events"`
	Seconds  float64 `json:"seconds"`
	// PeakRSS is the child's own VmHWM in bytes (ru_maxrss, which the
	// benchmark compares, is at least the parent's peak at fork time).
	PeakRSS int64 `json:"peak_rss"`
}

// runDecodeChild decodes path with BGP on port and prints a childResult.
func runDecodeChild(path, port string) int {
	p, err := strconv.Atoi(port)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", envDecodeChildPort, err)
		return 2
	}
	f, err := os.Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer f.Close()
	start := time.Now()
	tl, err := Decode(f, DecodeOptions{Ports: []int{p}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	res := childResult{Messages: tl.Messages, Seconds: time.Since(start).Seconds()}
	for _, s := range tl.Sessions {
		res.Updates += s.Counts.Update
		res.Events += len(s.Events)
	}
	res.PeakRSS = selfPeakRSS()
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		return 1
	}
	return 0
}

// processRun is the cost of one child process.
type processRun struct {
	wall   time.Duration
	maxRSS int64 // bytes
}

// runMeasured runs cmd to completion and returns its wall time and peak
// resident set size (getrusage ru_maxrss, as /usr/bin/time reports it).
func runMeasured(tb testing.TB, cmd *exec.Cmd) processRun {
	tb.Helper()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		tb.Fatalf("%s: %v: %s", cmd.Path, err, stderr.String())
	}
	wall := time.Since(start)
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		tb.Fatalf("%s: no rusage on this platform", cmd.Path)
	}
	return processRun{wall: wall, maxRSS: ru.Maxrss * 1024} // Linux reports KiB
}

// bgpTypeCounter counts BGP messages in `tshark -T fields -e bgp.type`
// output: one line per frame, message types separated by commas.
type bgpTypeCounter struct {
	messages int64
	inField  bool
}

// Write implements io.Writer.
func (c *bgpTypeCounter) Write(p []byte) (int, error) {
	for _, ch := range p {
		switch ch {
		case ',', '\n':
			c.inField = false
		default:
			if !c.inField {
				c.messages++
				c.inField = true
			}
		}
	}
	return len(p), nil
}

// benchUpdates is the number of routes (one prefix per UPDATE) of
// BenchmarkDecodeVsTshark's capture.
var benchUpdates = flag.Int("bench-updates", defaultBenchUpdates, "routes the lab announces, one prefix per UPDATE, for BenchmarkDecodeVsTshark")

// defaultBenchUpdates is the default of -bench-updates.
const defaultBenchUpdates = 1_000_000

// benchInput is the capture BenchmarkDecodeVsTshark decodes.
type benchInput struct {
	path, source string
	port         int
	messages     int64 // BGP messages in the file, as the decoder counts them
	updates      int64
}

// benchCapture returns the lab capture of n routes (cached in
// os.TempDir(), made now when missing, which needs root). Not being root
// fails under CI=true; elsewhere the benchmark falls back to the synthetic
// generator of gen_test.go and says so.
func benchCapture(b *testing.B, n int) benchInput {
	spec := labTransferSpec{Updates: n, Batch: 50_000}
	if path, meta, ok := loadLabCapture(spec); ok {
		b.Logf("lab capture %s (cached; made in %.0fs, %.0fs of it announcing): %d routes announced, %d in the receiver's adj-RIB-in, %d frames, %d BGP messages, %d UPDATEs",
			path, meta.TotalSeconds, meta.Seconds, meta.Announced, meta.AdjRIBIn, meta.Frames, meta.Messages, meta.Updates)
		return benchInput{path: path, source: "lab", port: meta.Port, messages: meta.Messages, updates: meta.Updates}
	}
	if os.Geteuid() != 0 {
		if testgate.InCI() {
			b.Fatal("making the lab capture needs root (AF_PACKET on lo) and CI=true: failing instead of falling back")
		}
		const port = 1179
		path := filepath.Join(b.TempDir(), "table-transfer.pcap")
		if err := writeTableTransferFile(path, transferSpec{Updates: n, Port: port}); err != nil {
			b.Fatal(err)
		}
		b.Logf("NOT ROOT: no lab capture, decoding a SYNTHETIC capture of %d UPDATEs instead (outside CI only; run as root for the lab capture)", n)
		return benchInput{path: path, source: "synthetic", port: port, messages: int64(n + 7), updates: int64(n + 1)}
	}
	gen := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^$")
	gen.Env = append(os.Environ(), envLabGen+"="+strconv.Itoa(n), envLabBatch+"="+strconv.Itoa(spec.Batch))
	gen.Stderr = os.Stderr
	if out, err := gen.Output(); err != nil {
		b.Fatalf("lab generator: %v: %s", err, out)
	}
	path, meta, ok := loadLabCapture(spec)
	if !ok {
		b.Fatalf("lab generator left no capture at %s", path)
	}
	b.Logf("lab capture %s (made now in %.0fs, %.0fs of it announcing): %d routes announced, %d in the receiver's adj-RIB-in, %d frames, %d BGP messages, %d UPDATEs",
		path, meta.TotalSeconds, meta.Seconds, meta.Announced, meta.AdjRIBIn, meta.Frames, meta.Messages, meta.Updates)
	return benchInput{path: path, source: "lab", port: meta.Port, messages: meta.Messages, updates: meta.Updates}
}

// BenchmarkDecodeVsTshark compares the decoder with tshark on one capture
// of a table transfer made by the lab: two embedded GoBGP speakers on lo,
// one announcing -bench-updates routes with a MED each, so one prefix per
// UPDATE (see labgen_test.go; the file is cached in os.TempDir()). In one
// run tshark and a re-executed test binary (GOMAXPROCS=1) each decode the
// file as a child process, so wall time and peak RSS are measured the same
// way, and must count the same BGP messages; the sub-benchmark, named
// after the capture's source ("lab" or, as non-root outside CI,
// "synthetic") and size, then times the decoder in-process.
//
//	go test ./capture -run '^$' -bench DecodeVsTshark -benchtime 3x
//	go test ./capture -run '^$' -bench DecodeVsTshark -benchtime 3x -args -bench-updates 250000
func BenchmarkDecodeVsTshark(b *testing.B) {
	tshark := requireTool(b, "tshark")
	n := *benchUpdates
	in := benchCapture(b, n)
	// The lab's counts: every route its own UPDATE, plus at most a few
	// (End-of-RIB) besides.
	if in.updates < int64(n) || in.updates > int64(n)+8 {
		b.Fatalf("capture holds %d UPDATEs for %d routes: not one prefix per UPDATE", in.updates, n)
	}
	fi, err := os.Stat(in.path)
	if err != nil {
		b.Fatal(err)
	}

	var counter bgpTypeCounter
	tcmd := exec.Command(tshark, "-n", "-r", in.path, "-Y", "bgp", "-d", fmt.Sprintf("tcp.port==%d,bgp", in.port),
		"-T", "fields", "-e", "bgp.type")
	tcmd.Stdout = &counter
	ts := runMeasured(b, tcmd)
	if counter.messages != in.messages {
		b.Errorf("tshark dissected %d BGP messages, the decoder %d", counter.messages, in.messages)
	}

	var out bytes.Buffer
	ccmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^$")
	ccmd.Env = append(os.Environ(), envDecodeChild+"="+in.path, envDecodeChildPort+"="+strconv.Itoa(in.port), "GOMAXPROCS=1")
	ccmd.Stdout = &out
	ours := runMeasured(b, ccmd)
	var res childResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		b.Fatalf("decoding child output %q: %v", out.String(), err)
	}
	if res.Messages != in.messages || res.Updates != in.updates {
		b.Fatalf("decoder child counted %d messages, %d UPDATEs; want %d and %d", res.Messages, res.Updates, in.messages, in.updates)
	}
	b.Logf("%s capture, %d MiB, %d BGP messages (%d UPDATEs); tshark %.2fs, peak RSS %d MiB; decoder child %.2fs (decode %.2fs, %.0f msgs/s), peak RSS %d MiB (own VmHWM %d MiB, parent's %d MiB), %d events stored; %.1fx faster, %.1fx less memory",
		in.source, fi.Size()>>20, in.messages, in.updates, ts.wall.Seconds(), ts.maxRSS>>20, ours.wall.Seconds(), res.Seconds,
		float64(res.Messages)/res.Seconds, ours.maxRSS>>20, res.PeakRSS>>20, selfPeakRSS()>>20, res.Events,
		ts.wall.Seconds()/ours.wall.Seconds(), float64(ts.maxRSS)/float64(ours.maxRSS))

	data, err := os.ReadFile(in.path)
	if err != nil {
		b.Fatal(err)
	}
	b.Run(in.source+"-"+countLabel(n), func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		var msgs int64
		for range b.N {
			tl, err := Decode(bytes.NewReader(data), DecodeOptions{Ports: []int{in.port}})
			if err != nil {
				b.Fatal(err)
			}
			msgs += tl.Messages
		}
		b.ReportMetric(float64(msgs)/b.Elapsed().Seconds(), "msgs/s")
		b.ReportMetric(float64(res.Messages)/res.Seconds, "child-msgs/s")
		b.ReportMetric(ts.wall.Seconds()/ours.wall.Seconds(), "x-tshark-speed")
		b.ReportMetric(float64(ts.maxRSS)/float64(ours.maxRSS), "x-tshark-mem")
		b.ReportMetric(float64(ours.maxRSS)/(1<<20), "rss-MiB")
		b.ReportMetric(float64(ts.maxRSS)/(1<<20), "tshark-rss-MiB")
		b.ReportMetric(ts.wall.Seconds(), "tshark-s")
		b.ReportMetric(ours.wall.Seconds(), "child-s")
	})
}

// selfPeakRSS is this process's VmHWM in bytes, or -1 when unknown.
func selfPeakRSS() int64 {
	n, err := procstat.PeakRSS(procstat.Self)
	if err != nil {
		return -1
	}
	return n
}
