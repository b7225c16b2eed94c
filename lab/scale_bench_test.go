package lab

// BenchmarkLabRouteReflector1000 plays one route reflector with 999
// clients through the path `peerlab run FILE` takes (a YAML topology,
// lab.Up with the CLI's defaults, the `established: all` expectation
// checked at both ends of every session) in both modes, one after the
// other in the same run: loopback mode, then the mode the CLI picks by
// default (as root: namespace mode, one namespace and one agent process
// per node on the lab bridge). It reports, per mode, the time from the
// start of Up until every session is Established at both ends, and their
// ratio. Not root, it measures loopback mode only and says so.
//
//	go test -run '^$' -bench RouteReflector1000 -benchtime 1x -timeout 30m ./lab/
//
// -rr-clients N plays N clients instead of 999 (say 199 while iterating);
// -rr-agent peerlab runs the agents from peerlab itself, as a lab does
// when no peerlab-gobgpd lies beside it.
// Peak RSS is per process, so run it alone; `make bench` does.

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/peerlab/peerlab/lab/topology"

	"github.com/peerlab/peerlab/internal/procstat"
)

var (
	rrClients = flag.Int("rr-clients", 999, "clients of the route reflector in BenchmarkLabRouteReflector1000")
	rrAgent   = flag.String("rr-agent", AgentProgram, "the agent program of BenchmarkLabRouteReflector1000's namespace nodes: "+AgentProgram+" (what make build puts beside peerlab) or peerlab (what runs without it)")
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
	b.WriteString("]\nexpect:\n  - established: all\n    within: 5m\n")
	return []byte(b.String())
}

// rrRun is one bring-up measured by runRouteReflector.
type rrRun struct {
	mode     Mode          // the mode the lab ran in
	up       time.Duration // until Up returned
	took     time.Duration // until all Established at both ends
	agentsMB float64       // namespace mode: private memory of the agents
	cpu      nodeCPU       // namespace mode: CPU time the nodes' processes took
}

// nodeCPU is the CPU time (user and system) a namespace lab's processes
// took up to the moment every session was Established: a figure the other
// jobs of a busy machine do not inflate, as they do wall time.
type nodeCPU struct {
	agents, rr, inits, lab time.Duration
}

func BenchmarkLabRouteReflector1000(b *testing.B) {
	raiseOpenFiles(b, 8192)
	clients := *rrClients
	root := os.Geteuid() == 0
	if root {
		// Inside a test /proc/self/exe is the test binary: the agents run
		// the peerlab-gobgpd make build puts beside peerlab, built from
		// this tree, as the CLI's do (agentExecutable).
		switch *rrAgent {
		case AgentProgram:
			useAgent(b, builtAgentProgram(b))
		case "peerlab":
			useBuiltAgent(b)
		default:
			b.Fatalf("-rr-agent %q: want %s or peerlab", *rrAgent, AgentProgram)
		}
	} else {
		b.Log("not root: the CLI's default is loopback mode, so only loopback mode is measured")
	}
	// The CLI's default port for loopback mode, moved per process so that
	// concurrent runs do not collide (PEERLAB_PORT does that for the CLI).
	port := DefaultPort + 30000 + os.Getpid()%20000
	var group *cpuGroup
	if root {
		group = newCPUGroup(b)
	}
	baseline := runtime.NumGoroutine()
	for range b.N {
		lb := runRouteReflector(b, clients, ModeLoopback, port, group)
		// Peak RSS up to now is the loopback lab's: tearing 1000 GoBGP
		// servers down allocates fresh tables (GoBGP's adj-RIB Drop),
		// which is not the lab's size.
		b.ReportMetric(lb.took.Seconds(), "s-loopback")
		b.ReportMetric(selfPeakMB(b), "MB-peak-rss-loopback")
		if !root {
			continue
		}
		// Each mode starts as a fresh `peerlab run` process would: the
		// loopback lab's 1,000 speakers done winding down and their heap
		// returned, not still collected while the next lab starts.
		settleProcess(b, baseline)
		ns := runRouteReflector(b, clients, ModeAuto, port, group)
		if ns.mode != ModeNamespace {
			b.Fatalf("as root the default mode ran %s, want namespace", ns.mode)
		}
		b.ReportMetric(ns.took.Seconds(), "s-namespace")
		b.ReportMetric(ns.agentsMB, "MB-agents-namespace")
		b.ReportMetric(ns.took.Seconds()/lb.took.Seconds(), "namespace/loopback")
	}
}

// runRouteReflector brings a reflector with n clients up in mode, waits
// for every session to be Established at both ends and tears it down.
func runRouteReflector(b *testing.B, clients int, mode Mode, port int, group *cpuGroup) rrRun {
	b.Helper()
	// Lab names hold at most 20 characters.
	name := fmt.Sprintf("rr%d-%d-%s", clients+1, os.Getpid()%100000, modeTag(mode)[:2])
	topo, err := topology.Parse(name+".yaml", rrTopologyYAML(name, clients))
	if err != nil {
		b.Fatal(err)
	}
	before := cpuNow(b, group)
	start := time.Now()
	// StateDir "" is the CLI's default state folder (/run/peerlab as root).
	// Labelled, so that a -cpuprofile of the benchmark tells the modes
	// apart: go tool pprof -tagfocus=mode=default ...
	var l *Lab
	pprof.Do(context.Background(), pprof.Labels("mode", modeTag(mode)), func(ctx context.Context) {
		l, err = Up(ctx, topo, Options{Port: port, Mode: mode, Logger: benchLogger(b)})
	})
	if err != nil {
		b.Fatalf("%s: up: %v", modeTag(mode), err)
	}
	up := time.Since(start)
	results := l.Check(context.Background(), CheckOptions{})
	took := time.Since(start)
	b.StopTimer()
	run := rrRun{mode: l.Mode(), up: up, took: took}
	if run.mode == ModeNamespace {
		run.agentsMB = agentsAnonMB(b, l)
		run.cpu = namespaceCPU(b, l, group, before)
		b.Logf("CPU until all Established: client agents %s (%.1f ms each), reflector %s, node inits %s, lab process %s",
			run.cpu.agents.Round(time.Millisecond), float64(run.cpu.agents.Milliseconds())/float64(clients),
			run.cpu.rr.Round(time.Millisecond), run.cpu.inits.Round(time.Millisecond), run.cpu.lab.Round(time.Millisecond))
	}
	if derr := l.Down(); derr != nil {
		b.Error(derr)
	}
	if !results[0].OK {
		b.Fatalf("%s: not all Established: %s", run.mode, results[0].Detail)
	}
	b.Logf("%s mode: %d nodes up after %s, all %d sessions Established at both ends after %s",
		run.mode, clients+1, up.Round(time.Millisecond), clients, took.Round(time.Millisecond))
	b.StartTimer()
	return run
}

// modeTag names mode in lab names and logs: "default" for ModeAuto.
func modeTag(m Mode) string {
	if m == ModeAuto {
		return "default"
	}
	return string(m)
}

// agentsAnonMB sums the private resident memory (RssAnon) of the agents
// of a namespace-mode lab's gobgp nodes.
func agentsAnonMB(b *testing.B, l *Lab) float64 {
	b.Helper()
	var kb int64
	for _, name := range l.order {
		r, ok := l.nodes[name].(*remoteGoBGPNode)
		if !ok || r.cmd == nil || r.cmd.Process == nil {
			continue
		}
		v, err := statusKB(r.cmd.Process.Pid, "RssAnon")
		if err != nil {
			b.Fatalf("agent of %s: %v", name, err)
		}
		kb += v
	}
	return float64(kb) / 1024
}

// statusKB reads field (in kB) from /proc/pid/status.
func statusKB(pid int, field string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			return strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		}
	}
	return 0, fmt.Errorf("/proc/%d/status has no %s", pid, field)
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

// cpuMark is where the CPU clocks stood when a bring-up began.
type cpuMark struct {
	group, lab time.Duration
}

// cpuNow reads the CPU clocks: the accounting group's when there is one,
// and this process's.
func cpuNow(b *testing.B, group *cpuGroup) cpuMark {
	m := cpuMark{lab: selfCPU(b)}
	if group != nil {
		m.group = group.usage(b)
	}
	return m
}

// namespaceCPU is the CPU time a namespace lab's processes took since
// before: the lab process's, the reflector's and any node init's read
// from the processes, the client agents' as what the accounting group
// took beyond those (per process, in clock ticks, without a group).
func namespaceCPU(b *testing.B, l *Lab, group *cpuGroup, before cpuMark) nodeCPU {
	b.Helper()
	now := cpuNow(b, group)
	c := nodeCPU{lab: now.lab - before.lab}
	var ticked time.Duration
	for _, name := range l.order {
		agentPID := 0
		if r, ok := l.nodes[name].(*remoteGoBGPNode); ok && r.cmd != nil && r.cmd.Process != nil {
			agentPID = r.cmd.Process.Pid
			if name == "rr" {
				c.rr += processCPU(agentPID)
			} else {
				ticked += processCPU(agentPID)
			}
		}
		// A gobgp node's agent is its host: no init of its own.
		if pid := l.ns.initPID(name); pid != 0 && pid != agentPID {
			c.inits += processCPU(pid)
		}
	}
	c.agents = ticked
	if group != nil {
		c.agents = now.group - before.group - c.lab - c.rr - c.inits
	}
	return c
}

// processCPU is the user and system CPU time pid has taken (0 when it is
// gone), from /proc/pid/stat.
func processCPU(pid int) time.Duration {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	i := strings.LastIndexByte(string(stat), ')')
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 13 {
		return 0
	}
	// utime and stime are fields 14 and 15, in clock ticks (100 a second
	// on Linux).
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+s) * 10 * time.Millisecond
}

// benchLogger is a debug logger on stderr when PEERLAB_BENCH_LOG is set
// (the lab's phases: namespaces, node hosts, nodes started), none
// otherwise.
func benchLogger(b *testing.B) *zap.Logger {
	if os.Getenv("PEERLAB_BENCH_LOG") == "" {
		return zap.NewNop()
	}
	l, err := zap.NewDevelopment()
	if err != nil {
		b.Fatal(err)
	}
	return l
}

// settleProcess waits (up to 30 s) until the goroutines of a lab torn down
// have stopped going away, then collects the heap and returns it to the
// system, so the next lab is measured from a clean process. Some stay:
// about 700 idle goroutines of GoBGP's peer queues (eapache/channels
// InfiniteChannel buffers) outlive the 1,000-node loopback lab's Down; they
// take no CPU. GoBGP v4.8.0 alone does it too: 20 servers with an
// Established session each, StopBgp and Stop, leave 4 such goroutines.
func settleProcess(b *testing.B, baseline int) {
	b.Helper()
	b.StopTimer()
	defer b.StartTimer()
	deadline := time.Now().Add(30 * time.Second)
	last, stable := runtime.NumGoroutine(), time.Now()
	for time.Now().Before(deadline) && time.Since(stable) < time.Second {
		time.Sleep(100 * time.Millisecond)
		if n := runtime.NumGoroutine(); n != last {
			last, stable = n, time.Now()
		}
	}
	b.Logf("%d goroutines left after the loopback lab (%d before it)", runtime.NumGoroutine(), baseline)
	debug.FreeOSMemory()
}
