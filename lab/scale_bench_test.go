package lab

// BenchmarkLabRouteReflector1000 plays one route reflector with 999 clients
// through the whole peerlab path (YAML topology, lab.Up, expectation
// checks) and reports the time from the start of Up until every session is
// Established at both ends, and the process's peak RSS. Peak RSS is per
// process, so run it alone; `make bench` runs it beside the speaker
// package's BenchmarkEstablish1000 and its raw-GoBGP twin:
//
//	go test -run '^$' -bench RouteReflector1000 -benchtime 1x ./lab/

import (
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/peerlab/peerlab/lab/topology"

	"github.com/peerlab/peerlab/internal/procstat"
)

// rrTopologyYAML writes a topology of one reflector and n clients.
func rrTopologyYAML(name string, clients int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "name: %s\ndefaults: {asn: 64512, timers: {hold: 30s, keepalive: 10s, connect-retry: 1s}}\nnodes:\n", name)
	b.WriteString("  rr: {address: 10.0.0.1, role: route-reflector}\n")
	for i := 1; i <= clients; i++ {
		fmt.Fprintf(&b, "  c%d: {address: 10.1.%d.%d}\n", i, i/250, i%250+1)
	}
	b.WriteString("peerings:\n  - route-reflector: rr\n    clients: [")
	for i := 1; i <= clients; i++ {
		if i > 1 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "c%d", i)
	}
	b.WriteString("]\nexpect:\n  - established: all\n    within: 60s\n")
	return []byte(b.String())
}

func BenchmarkLabRouteReflector1000(b *testing.B) {
	raiseOpenFiles(b, 8192)
	topo, err := topology.Parse("rr1000.yaml", rrTopologyYAML("bench-rr1000", 999))
	if err != nil {
		b.Fatal(err)
	}
	port := 30000 + os.Getpid()%20000
	for range b.N {
		start := time.Now()
		l, err := Up(context.Background(), topo, Options{StateDir: b.TempDir(), Port: port, Mode: ModeLoopback})
		if err != nil {
			b.Fatal(err)
		}
		up := time.Since(start)
		results := l.Check(context.Background(), CheckOptions{})
		took := time.Since(start)
		if !results[0].OK {
			b.Fatalf("not all Established: %s", results[0].Detail)
		}
		b.StopTimer()
		// Peak RSS up to now: tearing 1000 GoBGP servers down allocates
		// fresh tables (GoBGP's adj-RIB Drop), which is not the lab's size.
		b.ReportMetric(selfPeakMB(b), "MB-peak-rss")
		if err := l.Down(); err != nil {
			b.Fatal(err)
		}
		b.Logf("lab up after %s, all 999 sessions Established at both ends after %s", up, took)
		b.ReportMetric(took.Seconds(), "s-to-established")
		b.StartTimer()
	}
}

// raiseOpenFiles lifts RLIMIT_NOFILE to at least want (root may raise the
// hard limit too): 1000 sessions hold about 3000 sockets.
func raiseOpenFiles(b *testing.B, want uint64) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		b.Fatal(err)
	}
	if lim.Max < want && os.Geteuid() == 0 {
		lim.Max = want
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		b.Fatal(err)
	}
	if lim.Cur < want/2 {
		b.Fatalf("open-file limit %d is too low for this benchmark", lim.Cur)
	}
}

// selfPeakMB is this process's peak RSS in MB.
func selfPeakMB(b *testing.B) float64 {
	n, err := procstat.PeakRSS(procstat.Self)
	if err != nil {
		b.Fatal(err)
	}
	return float64(n) / (1 << 20)
}
