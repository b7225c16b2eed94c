package lab

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/peerlab/peerlab/internal/rotatelog"
)

// ErrLabNotFound is returned when no lab of that name is known on this host.
var ErrLabNotFound = errors.New("lab not found")

// LabDir is the folder of lab name under stateDir: node folders, the
// control socket, the state file and the owner's log live there.
func LabDir(stateDir, name string) string { return filepath.Join(stateDir, "labs", name) }

// ServeDir is where `peerlab serve` keeps, per lab it hosts, the topology
// it was given (NAME.yaml), the host process's log (HostLog), its crash
// output (HostStderr), its socket (NAME.sock) and captures (NAME-capture/).
func ServeDir(stateDir string) string { return filepath.Join(stateDir, "serve") }

// HostLog is the log the host process of serve's lab name writes itself:
// NAME.log, rotated into NAME.log.1, NAME.log.2 … (internal/rotatelog).
func HostLog(stateDir, name string) string { return filepath.Join(ServeDir(stateDir), name+".log") }

// HostStderr is where the standard output and error of the host process
// of serve's lab name go (NAME.stderr): what the process writes outside
// its log, such as a Go panic.
func HostStderr(stateDir, name string) string {
	return filepath.Join(ServeDir(stateDir), name+".stderr")
}

// OwnerLog is the log the background owner of lab name (`peerlab up -d`)
// writes itself: <state>/logs/NAME.log, rotated into NAME.log.1,
// NAME.log.2 … (internal/rotatelog).
func OwnerLog(stateDir, name string) string {
	return filepath.Join(stateDir, "logs", name+".log")
}

// OwnerStderr is where the standard output and error of the background
// owner of lab name go (<state>/logs/NAME.stderr): what the process writes
// outside its log, such as a Go panic.
func OwnerStderr(stateDir, name string) string {
	return filepath.Join(stateDir, "logs", name+".stderr")
}

// RemoveOwnerFiles removes the log (with its old files) and the crash
// output of lab name's background owner. Missing files are not an error.
func RemoveOwnerFiles(stateDir, name string) error {
	var errs []error
	if err := rotatelog.Remove(OwnerLog(stateDir, name)); err != nil {
		errs = append(errs, fmt.Errorf("remove log of lab %s: %w", name, err))
	}
	if err := os.Remove(OwnerStderr(stateDir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, fmt.Errorf("remove owner stderr of lab %s: %w", name, err))
	}
	return errors.Join(errs...)
}

// TopologyCopy is where the CLI writes the topology of lab name when it
// has no file of its own (a lab or exercise built into peerlab), so that
// the lab's owner and `peerlab graph LAB` can read it; Clean removes it.
func TopologyCopy(stateDir, name string) string {
	return filepath.Join(stateDir, "topologies", name+".yaml")
}

// RemoveServeFiles removes what `peerlab serve` kept for lab name in
// ServeDir once the lab is gone: its topology copy, host log (with its old
// files), crash output and socket. Missing files are not an error;
// captures are the user's and stay.
func RemoveServeFiles(stateDir, name string) error {
	var errs []error
	for _, ext := range []string{".yaml", ".stderr", ".sock"} {
		if err := os.Remove(filepath.Join(ServeDir(stateDir), name+ext)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove serve file of lab %s: %w", name, err))
		}
	}
	if err := rotatelog.Remove(HostLog(stateDir, name)); err != nil {
		errs = append(errs, fmt.Errorf("remove host log of lab %s: %w", name, err))
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
	// PIDStart is when the owner started (clock ticks after boot, field 22
	// of /proc/PID/stat), so that a PID the kernel gave to another process
	// since is never taken for the owner (VerifyOwner).
	PIDStart uint64 `json:"pid_start,omitempty"`
	// Socket is the owner's control socket.
	Socket  string    `json:"socket"`
	Started time.Time `json:"started"`
	// Nodes maps each node to its kind.
	Nodes map[string]string `json:"nodes"`
}

// WriteState publishes st in its lab's folder (atomically: a reader never
// sees half a file; mode 0600). It records the owner's start time when st
// does not carry it.
func WriteState(stateDir string, st LabState) error {
	dir := LabDir(stateDir, st.Name)
	if st.PIDStart == 0 && st.PID > 0 {
		start, err := ProcessStart(st.PID)
		if err != nil {
			return fmt.Errorf("write state of lab %s: %w", st.Name, err)
		}
		st.PIDStart = start
	}
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("encode state of lab %s: %w", st.Name, err)
	}
	tmp := filepath.Join(dir, stateFileName+".tmp")
	_ = os.Remove(tmp)
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
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

// ErrOwnerUnverified is returned when the process a state file names is not
// provably the lab's owner.
var ErrOwnerUnverified = errors.New("not verified as the lab's owner")

// ProcessStart returns when process pid started, in clock ticks after boot
// (field 22 of /proc/PID/stat).
func ProcessStart(pid int) (uint64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("start time of pid %d: %w", pid, err)
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, fmt.Errorf("start time of pid %d: malformed /proc stat", pid)
	}
	fields := strings.Fields(string(data[i+1:]))
	const startField = 22 - 3 // fields after the name start at field 3
	if len(fields) <= startField {
		return 0, fmt.Errorf("start time of pid %d: malformed /proc stat", pid)
	}
	start, err := strconv.ParseUint(fields[startField], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("start time of pid %d: %w", pid, err)
	}
	return start, nil
}

// VerifyOwner returns nil when st's owner process still runs: its PID is
// alive and started when the state file says. Anything else (no PID, no
// recorded start, a different start: the PID was reused) wraps
// ErrOwnerUnverified, and nothing may signal that PID on the lab's behalf.
func (st LabState) VerifyOwner() error {
	if st.PID <= 0 || st.PIDStart == 0 {
		return fmt.Errorf("lab %s: pid %d: %w (no start time recorded)", st.Name, st.PID, ErrOwnerUnverified)
	}
	start, err := ProcessStart(st.PID)
	if err != nil {
		return fmt.Errorf("lab %s: pid %d: %w (%v)", st.Name, st.PID, ErrOwnerUnverified, err)
	}
	if start != st.PIDStart {
		return fmt.Errorf("lab %s: pid %d: %w (it started at tick %d, the owner at %d)", st.Name, st.PID, ErrOwnerUnverified, start, st.PIDStart)
	}
	return nil
}
