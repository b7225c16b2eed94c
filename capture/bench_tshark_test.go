package capture

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
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

// BenchmarkDecodeVsTshark compares the decoder with tshark on one
// generated capture of a 1,000,000-UPDATE table transfer, in one run:
// tshark and a re-executed test binary (GOMAXPROCS=1) each decode the file
// as a child process, so wall time and peak RSS are measured the same
// way; the sub-benchmark then times the decoder in-process.
//
//	go test ./capture -run '^$' -bench DecodeVsTshark -benchtime 3x
func BenchmarkDecodeVsTshark(b *testing.B) {
	const (
		updates = 1_000_000
		port    = 1179
	)
	tshark := requireTool(b, "tshark")
	path := filepath.Join(b.TempDir(), "table-transfer-1m.pcap")
	if err := writeTableTransferFile(path, transferSpec{Updates: updates, Port: port}); err != nil {
		b.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	wantMsgs := int64(updates + 7)

	var counter bgpTypeCounter
	tcmd := exec.Command(tshark, "-n", "-r", path, "-Y", "bgp", "-d", fmt.Sprintf("tcp.port==%d,bgp", port),
		"-T", "fields", "-e", "bgp.type")
	tcmd.Stdout = &counter
	ts := runMeasured(b, tcmd)
	if counter.messages != wantMsgs {
		b.Errorf("tshark dissected %d BGP messages, want %d", counter.messages, wantMsgs)
	}

	var out bytes.Buffer
	ccmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^$")
	ccmd.Env = append(os.Environ(), envDecodeChild+"="+path, envDecodeChildPort+"="+strconv.Itoa(port), "GOMAXPROCS=1")
	ccmd.Stdout = &out
	ours := runMeasured(b, ccmd)
	var res childResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		b.Fatalf("decoding child output %q: %v", out.String(), err)
	}
	if res.Messages != wantMsgs || res.Updates != updates+1 {
		b.Fatalf("decoder counted %d messages, %d UPDATEs; want %d and %d", res.Messages, res.Updates, wantMsgs, updates+1)
	}
	b.Logf("file %d MiB, %d BGP messages; tshark %.2fs, peak RSS %d MiB; decoder child %.2fs (decode %.2fs, %.0f msgs/s), peak RSS %d MiB, %d events stored",
		fi.Size()>>20, wantMsgs, ts.wall.Seconds(), ts.maxRSS>>20, ours.wall.Seconds(), res.Seconds,
		float64(res.Messages)/res.Seconds, ours.maxRSS>>20, res.Events)

	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("1M", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		var msgs int64
		for range b.N {
			tl, err := Decode(bytes.NewReader(data), DecodeOptions{Ports: []int{port}})
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
