package diagnose

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckHostDecision checks the not-a-Calico-node decision on
// fabricated hosts: only a host with none of the signs is refused, and the
// verdict names every path looked at.
func TestCheckHostDecision(t *testing.T) {
	target := HostTarget(HostPaths{})
	for _, tc := range []struct {
		name     string
		exists   []string // paths that exist
		nonEmpty bool     // /etc/calico holds something
		procs    []string
		calico   bool
	}{
		{"nothing at all", nil, false, nil, false},
		{"an empty /etc/calico is no config", []string{"/etc/calico"}, false, nil, false},
		{"BIRD socket of calico-node", []string{"/var/run/calico/bird.ctl"}, false, nil, true},
		{"plain BIRD socket", []string{"/var/run/bird/bird.ctl"}, false, nil, true},
		{"bird.cfg only", []string{"/etc/calico/confd/config/bird.cfg"}, false, nil, true},
		{"config in /etc/calico", nil, true, nil, true},
		{"bird process only (socket elsewhere)", nil, false, []string{"bird (pid 42)"}, true},
		{"calico-node process only", nil, false, []string{"calico-node (pid 7)"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := checkHost(target, "", hostProbe{
				exists: func(path string) bool {
					for _, e := range tc.exists {
						if e == path {
							return true
						}
					}
					return false
				},
				nonEmpty:  func(string) bool { return tc.nonEmpty },
				processes: func() []string { return tc.procs },
			})
			if p.CalicoNode() != tc.calico {
				t.Fatalf("CalicoNode() = %v, want %v (%+v)", p.CalicoNode(), tc.calico, p)
			}
			v := p.Verdict()
			if tc.calico {
				if !strings.HasPrefix(v, "this host looks like a Calico node: ") {
					t.Errorf("verdict %q", v)
				}
				return
			}
			for _, w := range []string{"this host does not look like a Calico node", "/var/run/calico/bird.ctl", "/var/run/bird/bird.ctl",
				"/etc/calico/confd/config/bird.cfg", "nothing in /etc/calico", "no bird or calico-node process"} {
				if !strings.Contains(v, w) {
					t.Errorf("verdict %q does not say %q", v, w)
				}
			}
		})
	}
}

// TestCalicoProcesses checks the process scan on a fabricated /proc: only
// bird, bird6 and calico-node in this network namespace count.
func TestCalicoProcesses(t *testing.T) {
	proc := t.TempDir()
	mk := func(pid, comm, ns string) {
		d := filepath.Join(proc, pid)
		if err := os.MkdirAll(filepath.Join(d, "ns"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "comm"), []byte(comm+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(ns, filepath.Join(d, "ns", "net")); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(proc, "self", "ns"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("net:[4026531840]", filepath.Join(proc, "self", "ns", "net")); err != nil {
		t.Fatal(err)
	}
	mk("10", "bird", "net:[4026531840]")
	mk("11", "bird", "net:[4026532999]") // a lab's BIRD in its own namespace
	mk("12", "calico-node", "net:[4026531840]")
	mk("13", "sshd", "net:[4026531840]")
	mk("14", "bird6", "net:[4026531840]")
	got := calicoProcesses(proc)
	want := []string{"bird (pid 10)", "calico-node (pid 12)", "bird6 (pid 14)"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("processes %q, want %q", got, want)
	}
}
