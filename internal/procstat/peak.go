// Package procstat reads what the kernel says about a process: its peak
// resident set size, for the benchmarks that compare injectors, decoders
// and speakers by memory.
package procstat

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Self stands for the calling process in PeakRSS.
const Self = 0

// PeakRSS is a process's peak resident set size (VmHWM in
// /proc/PID/status) in bytes; pid Self means the calling process.
func PeakRSS(pid int) (int64, error) {
	path := "/proc/self/status"
	if pid != Self {
		path = fmt.Sprintf("/proc/%d/status", pid)
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("peak RSS: %w", err)
	}
	defer f.Close()
	n, err := ParseVmHWM(f)
	if err != nil {
		return 0, fmt.Errorf("peak RSS of %s: %w", path, err)
	}
	return n, nil
}

// ParseVmHWM reads the VmHWM line of a /proc/PID/status text, in bytes.
func ParseVmHWM(r io.Reader) (int64, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(data)) {
		rest, ok := strings.CutPrefix(line, "VmHWM:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("unexpected VmHWM line %q", strings.TrimSpace(line))
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("VmHWM %q: %w", f[0], err)
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("no VmHWM line")
}
