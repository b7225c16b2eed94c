package lab

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// cpuacctRoot is the cgroup v1 CPU accounting hierarchy.
const cpuacctRoot = "/sys/fs/cgroup/cpuacct"

// cpuGroup is a CPU accounting cgroup holding the benchmark's process and
// so every process it starts from then on: its usage counts, to the
// nanosecond, the CPU time of a thousand short-lived agents, which
// /proc/PID/stat rounds down to clock ticks one process at a time (an
// agent taking 6 ms shows 0).
type cpuGroup struct {
	dir string
}

// newCPUGroup moves this process into a new cpuacct group until the
// benchmark ends; nil when the host has no cgroup v1 CPU accounting.
func newCPUGroup(b *testing.B) *cpuGroup {
	b.Helper()
	if _, err := os.Stat(filepath.Join(cpuacctRoot, "cpuacct.usage")); err != nil {
		b.Logf("no cgroup v1 CPU accounting (%v): agents' CPU time is per process, in clock ticks", err)
		return nil
	}
	g := &cpuGroup{dir: filepath.Join(cpuacctRoot, fmt.Sprintf("peerlab-bench-%d", os.Getpid()))}
	if err := os.Mkdir(g.dir, 0o755); err != nil {
		b.Fatalf("cpu accounting group: %v", err)
	}
	if err := os.WriteFile(filepath.Join(g.dir, "cgroup.procs"), []byte(strconv.Itoa(os.Getpid())), 0); err != nil {
		_ = os.Remove(g.dir)
		b.Fatalf("cpu accounting group: join: %v", err)
	}
	b.Cleanup(func() {
		_ = os.WriteFile(filepath.Join(cpuacctRoot, "cgroup.procs"), []byte(strconv.Itoa(os.Getpid())), 0)
		if err := os.Remove(g.dir); err != nil {
			b.Logf("remove cpu accounting group: %v", err)
		}
	})
	return g
}

// usage is the CPU time the group's processes took so far, exited ones
// included.
func (g *cpuGroup) usage(b *testing.B) time.Duration {
	b.Helper()
	data, err := os.ReadFile(filepath.Join(g.dir, "cpuacct.usage"))
	if err != nil {
		b.Fatalf("cpu accounting group: %v", err)
	}
	ns, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
	if err != nil {
		b.Fatalf("cpu accounting group: usage %q: %v", data, err)
	}
	return time.Duration(ns)
}

// selfCPU is the user and system CPU time this process took so far.
func selfCPU(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
