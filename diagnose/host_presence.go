package diagnose

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ExitNotCalicoNode is the exit status of `peerlab diagnose` in host mode
// on a host that does not look like a Calico node (the usage status: the
// command was pointed at the wrong machine).
const ExitNotCalicoNode = ExitUsage

// HostPresence is what a host shows of Calico and BIRD before any probe:
// the signs a Calico node always has. Empty fields mean "not found".
type HostPresence struct {
	// BirdSockets and BirdConfigs are the paths looked at; BirdSocket and
	// BirdConfig the first that exists.
	BirdSockets, BirdConfigs []string
	BirdSocket, BirdConfig   string
	// CalicoDir is the Calico config folder looked at (/etc/calico);
	// CalicoDirFound says it exists and holds something (an empty folder
	// is no configuration).
	CalicoDir      string
	CalicoDirFound bool
	// Processes are the bird, bird6 and calico-node processes running in
	// this network namespace, as "name (pid N)".
	Processes []string
}

// CalicoNode reports whether the host shows any sign of being a Calico
// node: a BIRD socket, a bird.cfg, the Calico folder or a BIRD or
// calico-node process. Only a host with none of them is "not a Calico
// node": any one sign means a diagnosis can say something about it.
func (p HostPresence) CalicoNode() bool {
	return p.BirdSocket != "" || p.BirdConfig != "" || p.CalicoDirFound || len(p.Processes) > 0
}

// Verdict says in one sentence why the host is not a Calico node (or that
// it is one).
func (p HostPresence) Verdict() string {
	if p.CalicoNode() {
		var signs []string
		if p.BirdSocket != "" {
			signs = append(signs, "BIRD socket "+p.BirdSocket)
		}
		if p.BirdConfig != "" {
			signs = append(signs, "bird.cfg "+p.BirdConfig)
		}
		if p.CalicoDirFound {
			signs = append(signs, p.CalicoDir)
		}
		signs = append(signs, p.Processes...)
		return "this host looks like a Calico node: " + strings.Join(signs, ", ")
	}
	return fmt.Sprintf("this host does not look like a Calico node: no BIRD socket at %s, no bird.cfg at %s, nothing in %s, no bird or calico-node process in this network namespace",
		orList(p.BirdSockets), orList(p.BirdConfigs), p.CalicoDir)
}

func orList(s []string) string {
	if len(s) == 0 {
		return "(none given)"
	}
	return strings.Join(s, " or ")
}

// hostProbe reads what CheckHost looks at; tests fabricate it.
type hostProbe struct {
	// exists reports whether a path exists (any type).
	exists func(path string) bool
	// nonEmpty reports whether a folder exists and holds an entry.
	nonEmpty func(dir string) bool
	// processes lists the bird/calico-node processes of this namespace.
	processes func() []string
}

// CheckHost looks for the signs of a Calico node on this host, for
// target t (HostTarget's sockets and bird.cfg) and the Calico folder
// calicoDir ("" means /etc/calico). It only reads: stat of the paths, the
// folder's first entry, /proc/*/comm and /proc/*/ns/net.
func CheckHost(t NodeTarget, calicoDir string) HostPresence {
	return checkHost(t, calicoDir, hostProbe{
		exists: func(p string) bool {
			_, err := os.Stat(p)
			return err == nil
		},
		nonEmpty: func(dir string) bool {
			f, err := os.Open(dir)
			if err != nil {
				return false
			}
			defer f.Close()
			names, _ := f.Readdirnames(1)
			return len(names) > 0
		},
		processes: func() []string { return calicoProcesses("/proc") },
	})
}

func checkHost(t NodeTarget, calicoDir string, probe hostProbe) HostPresence {
	if calicoDir == "" {
		calicoDir = "/etc/calico"
	}
	p := HostPresence{BirdSockets: t.BirdSockets, BirdConfigs: t.BirdConfigs, CalicoDir: calicoDir}
	for _, s := range t.BirdSockets {
		if probe.exists(s) {
			p.BirdSocket = s
			break
		}
	}
	for _, c := range t.BirdConfigs {
		if probe.exists(c) {
			p.BirdConfig = c
			break
		}
	}
	p.CalicoDirFound = probe.nonEmpty(calicoDir)
	p.Processes = probe.processes()
	return p
}

// calicoProcNames are the process names a Calico node with BGP runs.
var calicoProcNames = map[string]bool{"bird": true, "bird6": true, "calico-node": true}

// calicoProcesses lists the bird, bird6 and calico-node processes under
// procDir that share this process's network namespace (BIRDs of labs in
// other namespaces are not this host's). A process whose namespace cannot
// be read (no permission) counts: absence is not proven.
func calicoProcesses(procDir string) []string {
	self, _ := os.Readlink(filepath.Join(procDir, "self", "ns", "net"))
	entries, err := os.ReadDir(procDir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || !e.IsDir() {
			continue
		}
		comm, err := os.ReadFile(filepath.Join(procDir, e.Name(), "comm"))
		if err != nil {
			continue
		}
		name := strings.TrimSpace(string(comm))
		if !calicoProcNames[name] {
			continue
		}
		ns, err := os.Readlink(filepath.Join(procDir, e.Name(), "ns", "net"))
		if errors.Is(err, fs.ErrNotExist) {
			continue // exited meanwhile
		}
		if err == nil && self != "" && ns != self {
			continue
		}
		out = append(out, fmt.Sprintf("%s (pid %d)", name, pid))
	}
	return out
}

// WriteHostVerdict writes the not-a-Calico-node verdict as "text" or
// "json" ({"calico_node": false, "verdict": "...", "checked": {...}}).
func WriteHostVerdict(w io.Writer, p HostPresence, format string) error {
	switch format {
	case "json":
		v := struct {
			CalicoNode bool     `json:"calico_node"`
			Verdict    string   `json:"verdict"`
			Sockets    []string `json:"bird_sockets_checked"`
			Configs    []string `json:"bird_configs_checked"`
			CalicoDir  string   `json:"calico_dir_checked"`
			Processes  []string `json:"processes"`
		}{p.CalicoNode(), p.Verdict(), nonNil(p.BirdSockets), nonNil(p.BirdConfigs), p.CalicoDir, nonNil(p.Processes)}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(v); err != nil {
			return fmt.Errorf("diagnose: write host verdict: %w", err)
		}
		return nil
	case "text", "":
		_, err := fmt.Fprintf(w, "%s\n\nRun peerlab diagnose on a Calico node, point --bird-socket/--bird-config at its files, or diagnose collected evidence: peerlab diagnose FILE|DIR|BUNDLE.tgz|-\n", p.Verdict())
		if err != nil {
			return fmt.Errorf("diagnose: write host verdict: %w", err)
		}
		return nil
	}
	return fmt.Errorf("diagnose: unknown output format %q (want %s)", format, strings.Join(Formats, " or "))
}
