package bench

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// childNamed returns the pid of a child of this process whose command line
// holds every word, 0 when there is none.
func childNamed(words ...string) int {
	self := os.Getpid()
	entries, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, e := range entries {
		dir := filepath.Dir(e)
		pid, err := strconv.Atoi(filepath.Base(dir))
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join(dir, "stat"))
		if err != nil {
			continue
		}
		// Fields after the ")" that closes comm: state, ppid, ...
		i := strings.LastIndexByte(string(stat), ')')
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 2 || f[1] != strconv.Itoa(self) {
			continue
		}
		cmdline, _ := os.ReadFile(e)
		args := strings.Split(string(cmdline), "\x00")
		all := true
		for _, w := range words {
			found := false
			for _, a := range args {
				if a == w {
					found = true
				}
			}
			all = all && found
		}
		if all {
			return pid
		}
	}
	return 0
}
