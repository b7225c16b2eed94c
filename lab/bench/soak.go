package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"go.uber.org/zap"

	"github.com/peerlab/peerlab/client"
	pb "github.com/peerlab/peerlab/proto/peerlab/v1"
	"github.com/peerlab/peerlab/server"
)

// SoakOptions configure Soak.
type SoakOptions struct {
	// Binary is the peerlab executable to run `serve` from.
	Binary string
	// Duration is how long labs are created and deleted.
	Duration time.Duration
	// Every is the sampling interval of the server's figures.
	Every time.Duration
	// StateDir is the server's state folder; empty means a fresh
	// temporary one, removed at the end.
	StateDir string
	// Mode is the labs' mode; unspecified means the server's default.
	Mode pb.LabMode
	// Logger receives progress; nil means none.
	Logger *zap.Logger
}

// SoakSample is what the server looked like at one moment.
type SoakSample struct {
	At         time.Duration
	Cycles     int   // labs created, Established and deleted so far
	RSSKiB     int64 // resident memory (VmRSS)
	FDs        int   // open file descriptors
	Threads    int   // OS threads
	Goroutines int   // from the server's "runtime stats" log; -1 when none yet
}

// SoakResult is the outcome of Soak.
type SoakResult struct {
	Samples []SoakSample
	Cycles  int
	// Failures are the cycles that failed (create, wait or delete), with why.
	Failures []string
}

// soakTopology is the lab each cycle creates: two embedded speakers.
const soakTopology = `name: soak
nodes:
  node1: {address: 10.0.0.1, asn: 65001}
  node2: {address: 10.0.0.2, asn: 65002}
peerings:
  - between: [node1, node2]
`

// Soak runs one `peerlab serve` and, for opts.Duration, creates a lab,
// waits for its session to be Established and deletes it, again and again,
// sampling the server's memory, descriptors, threads and goroutines. A
// server that leaks shows figures that grow with the cycles; see
// WriteSoak for the comparison of the first and last samples.
func Soak(ctx context.Context, opts SoakOptions) (SoakResult, error) {
	var res SoakResult
	if opts.Every <= 0 {
		opts.Every = 5 * time.Second
	}
	log := opts.Logger
	if log == nil {
		log = zap.NewNop()
	}
	dir := opts.StateDir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "peerlab-soak-")
		if err != nil {
			return res, fmt.Errorf("soak: state folder: %w", err)
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	socket := filepath.Join(dir, "serve.sock")
	cmd := exec.Command(opts.Binary, "serve", "--state-dir", dir, "--socket", socket,
		"--stats-every", opts.Every.String(), "--log-level", "info", "--log-format", "json")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return res, fmt.Errorf("soak: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return res, fmt.Errorf("soak: start serve: %w", err)
	}
	goroutines := &latest{v: -1}
	go readRuntimeStats(stderr, goroutines)
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	c, err := dialWhenReady(ctx, socket, cmd)
	if err != nil {
		return res, err
	}
	defer c.Close()

	start := time.Now()
	stop := make(chan struct{})
	samples := make(chan []SoakSample, 1)
	var cycles latest
	go func() {
		var out []SoakSample
		t := time.NewTicker(opts.Every)
		defer t.Stop()
		for {
			out = append(out, sampleProcess(cmd.Process.Pid, time.Since(start), cycles.get(), goroutines.get()))
			select {
			case <-stop:
				samples <- out
				return
			case <-t.C:
			}
		}
	}()
	for time.Since(start) < opts.Duration && ctx.Err() == nil {
		if err := soakCycle(ctx, c, opts.Mode); err != nil {
			res.Failures = append(res.Failures, err.Error())
			log.Warn("soak cycle failed", zap.Error(err))
		} else {
			res.Cycles++
			cycles.set(res.Cycles)
		}
	}
	close(stop)
	res.Samples = <-samples
	res.Samples = append(res.Samples, sampleProcess(cmd.Process.Pid, time.Since(start), res.Cycles, goroutines.get()))
	return res, ctx.Err()
}

// soakCycle creates the soak lab, waits for its session and deletes it.
func soakCycle(ctx context.Context, c *client.Client, mode pb.LabMode) error {
	cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if _, err := c.Labs.CreateLab(cctx, &pb.CreateLabRequest{Source: &pb.CreateLabRequest_Yaml{Yaml: soakTopology}, Mode: mode}); err != nil {
		return fmt.Errorf("create: %w", err)
	}
	werr := c.WaitEstablished(cctx, "soak", "node1", "node2")
	_, derr := c.Labs.DeleteLab(context.WithoutCancel(cctx), &pb.DeleteLabRequest{Name: "soak"})
	if werr != nil {
		return fmt.Errorf("wait: %w", werr)
	}
	if derr != nil {
		return fmt.Errorf("delete: %w", derr)
	}
	return nil
}

// dialWhenReady waits for serve's socket to appear, then connects.
func dialWhenReady(ctx context.Context, socket string, cmd *exec.Cmd) (*client.Client, error) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(socket); err == nil {
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("soak: %s did not appear within 30s", socket)
		}
		if cmd.ProcessState != nil {
			return nil, errors.New("soak: serve exited")
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	c, err := client.NewUnix(socket)
	if err != nil {
		return nil, fmt.Errorf("soak: %w", err)
	}
	return c, nil
}

// sampleProcess reads pid's resident memory, threads and descriptors.
func sampleProcess(pid int, at time.Duration, cycles, goroutines int) SoakSample {
	s := SoakSample{At: at, Cycles: cycles, Goroutines: goroutines, FDs: -1}
	if data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			k, v, _ := strings.Cut(line, ":")
			f := strings.Fields(v)
			if len(f) == 0 {
				continue
			}
			n, _ := strconv.ParseInt(f[0], 10, 64)
			switch k {
			case "VmRSS":
				s.RSSKiB = n
			case "Threads":
				s.Threads = int(n)
			}
		}
	}
	if ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid)); err == nil {
		s.FDs = len(ents)
	}
	return s
}

// readRuntimeStats follows serve's JSON log for its runtime stats lines.
func readRuntimeStats(r io.Reader, goroutines *latest) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var line struct {
			Msg        string `json:"msg"`
			Goroutines *int   `json:"goroutines"`
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == server.RuntimeStatsMessage && line.Goroutines != nil {
			goroutines.set(*line.Goroutines)
		}
	}
}

// latest is an int shared between goroutines.
type latest struct {
	mu sync.Mutex
	v  int
}

func (l *latest) set(v int) { l.mu.Lock(); l.v = v; l.mu.Unlock() }
func (l *latest) get() int  { l.mu.Lock(); defer l.mu.Unlock(); return l.v }

// WriteSoak prints the samples and compares the figures of the first
// quarter of the run (after the first cycle) with those of the last: a
// server that does not leak keeps the ratios near 1 however many cycles.
func WriteSoak(w io.Writer, res SoakResult) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tCYCLES\tRSS\tFDS\tTHREADS\tGOROUTINES")
	for _, s := range res.Samples {
		fmt.Fprintf(tw, "%s\t%d\t%.1f MiB\t%d\t%d\t%d\n", s.At.Round(time.Second), s.Cycles, float64(s.RSSKiB)/1024, s.FDs, s.Threads, s.Goroutines)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%d cycles (create, Established, delete), %d failed\n", res.Cycles, len(res.Failures))
	for i, f := range res.Failures {
		if i == 5 {
			fmt.Fprintf(w, "  … %d more\n", len(res.Failures)-5)
			break
		}
		fmt.Fprintf(w, "  %s\n", f)
	}
	var warm []SoakSample
	for _, s := range res.Samples {
		if s.Cycles > 0 && s.Goroutines >= 0 {
			warm = append(warm, s)
		}
	}
	if len(warm) < 4 {
		fmt.Fprintln(w, "too few samples after the first cycle to compare start and end")
		return nil
	}
	q := len(warm) / 4
	first, last := mean(warm[:q]), mean(warm[len(warm)-q:])
	fmt.Fprintf(w, "last quarter / first quarter: rss %.2f, fds %.2f, threads %.2f, goroutines %.2f\n",
		last.rss/first.rss, last.fds/first.fds, last.threads/first.threads, last.goroutines/first.goroutines)
	return nil
}

type soakMean struct{ rss, fds, threads, goroutines float64 }

func mean(ss []SoakSample) soakMean {
	var m soakMean
	for _, s := range ss {
		m.rss += float64(s.RSSKiB)
		m.fds += float64(s.FDs)
		m.threads += float64(s.Threads)
		m.goroutines += float64(s.Goroutines)
	}
	n := float64(len(ss))
	return soakMean{m.rss / n, m.fds / n, m.threads / n, m.goroutines / n}
}
