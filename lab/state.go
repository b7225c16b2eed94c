package lab

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// ErrLabNotFound is returned when no lab of that name is known on this host.
var ErrLabNotFound = errors.New("lab not found")

// LabDir is the folder of lab name under stateDir: node folders, the
// control socket, the state file and the owner's log live there.
func LabDir(stateDir, name string) string { return filepath.Join(stateDir, "labs", name) }

// ServeDir is where `peerlab serve` keeps, per lab it hosts, the topology
// it was given (NAME.yaml), the host process's log (NAME.log), its socket
// (NAME.sock) and captures (NAME-capture/).
func ServeDir(stateDir string) string { return filepath.Join(stateDir, "serve") }

// TopologyCopy is where the CLI writes the topology of lab name when it
// has no file of its own (a lab or exercise built into peerlab), so that
// the lab's owner and `peerlab graph LAB` can read it; Clean removes it.
func TopologyCopy(stateDir, name string) string {
	return filepath.Join(stateDir, "topologies", name+".yaml")
}

// RemoveServeFiles removes what `peerlab serve` kept for lab name in
// ServeDir once the lab is gone: its topology copy, log and socket.
// Missing files are not an error; captures are the user's and stay.
func RemoveServeFiles(stateDir, name string) error {
	var errs []error
	for _, ext := range []string{".yaml", ".log", ".sock"} {
		if err := os.Remove(filepath.Join(ServeDir(stateDir), name+ext)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove serve file of lab %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// stateFileName is the state file in a lab's folder.
const stateFileName = "lab.json"

// LabState is what the process that owns a running lab publishes about it,
// so other peerlab processes (status, fault, exec, down, clean) find it.
type LabState struct {
	Name   string `json:"name"`
	Source string `json:"source"`
	Mode   Mode   `json:"mode"`
	// PID is the owner process.
	PID int `json:"pid"`
	// Socket is the owner's control socket.
	Socket  string    `json:"socket"`
	Started time.Time `json:"started"`
	// Nodes maps each node to its kind.
	Nodes map[string]string `json:"nodes"`
}

// WriteState publishes st in its lab's folder (atomically: a reader never
// sees half a file).
func WriteState(stateDir string, st LabState) error {
	dir := LabDir(stateDir, st.Name)
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("encode state of lab %s: %w", st.Name, err)
	}
	tmp := filepath.Join(dir, stateFileName+".tmp")
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("write state of lab %s: %w", st.Name, err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, stateFileName)); err != nil {
		return fmt.Errorf("write state of lab %s: %w", st.Name, err)
	}
	return nil
}

// ReadState reads the published state of lab name; it wraps
// ErrLabNotFound when there is none.
func ReadState(stateDir, name string) (LabState, error) {
	data, err := os.ReadFile(filepath.Join(LabDir(stateDir, name), stateFileName))
	if errors.Is(err, os.ErrNotExist) {
		return LabState{}, fmt.Errorf("lab %s: %w", name, ErrLabNotFound)
	}
	if err != nil {
		return LabState{}, fmt.Errorf("read state of lab %s: %w", name, err)
	}
	var st LabState
	if err := json.Unmarshal(data, &st); err != nil {
		return LabState{}, fmt.Errorf("read state of lab %s: %w", name, err)
	}
	return st, nil
}

// ListStates returns the published state of every lab under stateDir,
// by name. Folders without a readable state file are skipped.
func ListStates(stateDir string) ([]LabState, error) {
	entries, err := os.ReadDir(filepath.Join(stateDir, "labs"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list labs: %w", err)
	}
	var out []LabState
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if st, err := ReadState(stateDir, e.Name()); err == nil {
			out = append(out, st)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
