// Package procname sets a process's name as ps and pgrep show it.
package procname

import (
	"os"
	"path/filepath"
	"strings"
)

// maxLen is how many bytes of a process name the kernel keeps.
const maxLen = 15

// Set makes the process's name (its comm, what ps -o comm and pgrep see)
// the base name of argv0 when it differs: a lab starts its children
// through /proc/self/exe (comm "exe") or the agent program (comm
// "peerlab-gobgpd") under the names of what they are (calico-node,
// gobgpd). The kernel keeps 15 bytes of it.
func Set(argv0 string) {
	name := filepath.Base(argv0)
	if len(name) > maxLen {
		name = name[:maxLen]
	}
	cur, err := os.ReadFile("/proc/self/comm")
	if err != nil || strings.TrimSpace(string(cur)) == name || name == "" || name == "." {
		return
	}
	_ = os.WriteFile("/proc/self/comm", []byte(name), 0)
}
