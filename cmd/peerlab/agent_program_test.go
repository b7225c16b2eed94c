package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/peerlab/peerlab/lab"
)

// TestNodeAgentProgram checks, as root, which program the agents of a
// namespace lab's gobgp nodes run: peerlab-gobgpd when it lies beside
// peerlab from the same build (what make build makes), and peerlab itself,
// with a warning in the lab's log, when the program beside it is another.
// Either way the node's PID 1 is named gobgpd and its sessions come up.
func TestNodeAgentProgram(t *testing.T) {
	requireRoot(t)
	for _, tc := range []struct {
		name string
		// beside returns the peerlab to run, with what lies beside it.
		beside func(t *testing.T, built string) string
		// want is the program the agents run, for the peerlab run.
		want func(peerlab string) string
		warn bool
	}{
		{
			name:   "same build beside",
			beside: func(_ *testing.T, built string) string { return built },
			want:   func(p string) string { return filepath.Join(filepath.Dir(p), lab.AgentProgram) },
		},
		{
			name: "another program beside",
			beside: func(t *testing.T, built string) string {
				dir := t.TempDir()
				// Go's own go command: a Go program of another module.
				goTool, err := exec.LookPath("go")
				if err != nil {
					t.Fatal(err)
				}
				copyFile(t, goTool, filepath.Join(dir, lab.AgentProgram))
				copyFile(t, built, filepath.Join(dir, "peerlab"))
				return filepath.Join(dir, "peerlab")
			},
			want: func(p string) string { return p },
			warn: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Before newLabEnv: its clean-up, which runs the binary, then
			// runs before the temporary folder's removal.
			bin := tc.beside(t, peerlabBinary(t))
			e := newLabEnv(t)
			e.bin = bin
			file, name := e.topology("quickstart.yaml", "agx", "")
			e.mustRun(time.Minute, "up", "-d", "--wait", file)
			var agents []proc
			for _, p := range processesNaming(e.dir) {
				if len(p.argv) > 0 && p.argv[0] == "gobgpd" {
					agents = append(agents, p)
				}
			}
			if len(agents) != 3 {
				t.Fatalf("found %d gobgpd processes naming the state folder, want 3 (one per node)", len(agents))
			}
			for _, a := range agents {
				exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", a.pid))
				if err != nil {
					t.Fatal(err)
				}
				if want := tc.want(e.bin); exe != want {
					t.Errorf("agent pid %d runs %s, want %s", a.pid, exe, want)
				}
				comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", a.pid))
				if err != nil {
					t.Fatal(err)
				}
				if got := strings.TrimSpace(string(comm)); got != "gobgpd" {
					t.Errorf("agent pid %d is named %q, want gobgpd", a.pid, got)
				}
			}
			log, err := os.ReadFile(lab.OwnerLog(e.dir, name))
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(string(log), "agent program passed over"); got != tc.warn {
				t.Errorf("lab log warns of the agent program: %v, want %v\n%s", got, tc.warn, log)
			}
			e.mustRun(time.Minute, "down", name)
		})
	}
}

// copyFile copies the executable src to dst.
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o755); err != nil {
		t.Fatal(err)
	}
}
