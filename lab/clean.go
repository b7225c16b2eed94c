package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/peerlab/peerlab/internal/netns"
)

// CleanReport says what Clean removed and what it left running.
type CleanReport struct {
	// Removed lists the labs whose leftovers were removed.
	Removed []string `json:"removed"`
	// Running lists the labs left alone because their owner still runs.
	Running []string `json:"running"`
	// Namespaces and Processes count what went with the removed labs.
	Namespaces int `json:"namespaces"`
	Processes  int `json:"processes"`
}

// Clean removes what dead labs left behind: their network namespaces (and
// with them veths, bridges, addresses and nftables rules), every process
// still running inside those namespaces (BIRD, nginx, agents), their
// folders and lock files. A lab is dead when no process holds its name lock,
// which the kernel releases even when the owner was SIGKILLed. Running labs
// are left alone unless force is set, in which case their owners are
// stopped first (SIGTERM, then SIGKILL). Cleaning twice is harmless.
//
// Only labs of stateDir are looked at: those with a lock file, a folder or
// a log there. A lab takes its lock file before it makes any namespace and
// drops it only after its namespaces are gone, so a dead lab of stateDir is
// always found; the namespaces of labs kept in other state folders (other
// users, concurrent tests) are never touched, even though their lock files
// are not visible from here.
//
// only, when not empty, limits the work to the lab of that name; a name
// with no trace in stateDir is nothing to clean.
func Clean(ctx context.Context, stateDir, only string, force bool, log *zap.Logger) (CleanReport, error) {
	if log == nil {
		log = zap.NewNop()
	}
	var rep CleanReport
	if err := PrepareStateDir(stateDir); err != nil {
		return rep, err
	}
	names, err := knownLabs(stateDir)
	if err != nil {
		return rep, err
	}
	if only != "" {
		if !slices.Contains(names, only) {
			return rep, nil
		}
		names = []string{only}
	}
	var errs []error
	for _, name := range names {
		lock, err := tryLock(filepath.Join(stateDir, "labs", name+".lock"))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if lock == nil && force {
			if err := stopOwner(ctx, stateDir, name, log); err != nil {
				errs = append(errs, err)
				rep.Running = append(rep.Running, name)
				continue
			}
			lock, err = waitLock(ctx, filepath.Join(stateDir, "labs", name+".lock"))
			if err != nil {
				errs = append(errs, err)
				continue
			}
		}
		if lock == nil {
			rep.Running = append(rep.Running, name)
			continue
		}
		removed, err := netns.Clean(ctx, name, log)
		rep.Namespaces += removed.Namespaces
		rep.Processes += removed.Processes
		if err != nil {
			// Keep the folder and the lock file: they are how the next
			// clean finds the namespaces that are still there.
			errs = append(errs, fmt.Errorf("clean namespaces of lab %s: %w", name, err))
			lock.f.Close()
			continue
		}
		if err := removeLabDir(LabDir(stateDir, name)); err != nil {
			errs = append(errs, fmt.Errorf("remove folder of lab %s: %w", name, err))
		}
		if err := RemoveOwnerFiles(stateDir, name); err != nil {
			errs = append(errs, err)
		}
		if err := RemoveServeFiles(stateDir, name); err != nil {
			errs = append(errs, err)
		}
		if err := os.Remove(TopologyCopy(stateDir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove topology copy of lab %s: %w", name, err))
		}
		lock.release()
		rep.Removed = append(rep.Removed, name)
	}
	if err := cleanLoopbackLocks(stateDir); err != nil {
		errs = append(errs, err)
	}
	log.Info("clean", zap.Strings("removed", rep.Removed), zap.Strings("running", rep.Running),
		zap.Int("namespaces", rep.Namespaces), zap.Int("processes", rep.Processes))
	return rep, errors.Join(errs...)
}

// knownLabs lists every lab name with a trace in stateDir: folders, lock
// files or logs. Namespaces alone do not count: every state folder on the
// host sees the same /run/netns.
func knownLabs(stateDir string) ([]string, error) {
	seen := map[string]bool{}
	entries, err := os.ReadDir(filepath.Join(stateDir, "labs"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("list lab folders: %w", err)
	}
	for _, e := range entries {
		seen[strings.TrimSuffix(e.Name(), ".lock")] = true
	}
	logs, err := os.ReadDir(filepath.Join(stateDir, "logs"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("list lab logs: %w", err)
	}
	for _, e := range logs {
		// NAME.log, its old files NAME.log.N and NAME.stderr (OwnerLog,
		// OwnerStderr); a lab name holds no dot.
		name, _, _ := strings.Cut(e.Name(), ".")
		seen[name] = true
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, nil
}

// stopOwner stops the process that owns a running lab, once verified as
// the owner (LabState.VerifyOwner): a PID from a stale or planted state
// file is never signalled.
func stopOwner(ctx context.Context, stateDir, name string, log *zap.Logger) error {
	st, err := ReadState(stateDir, name)
	if err != nil {
		return fmt.Errorf("stop owner of lab %s: %w", name, err)
	}
	if st.PID == os.Getpid() {
		return nil
	}
	if err := st.VerifyOwner(); err != nil {
		return fmt.Errorf("stop owner of lab %s: not stopped: %w", name, err)
	}
	log.Info("stopping lab owner", zap.String("lab", name), zap.Int("pid", st.PID))
	_ = syscall.Kill(st.PID, syscall.SIGTERM)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if st.VerifyOwner() != nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	if st.VerifyOwner() == nil {
		_ = syscall.Kill(st.PID, syscall.SIGKILL)
	}
	return nil
}

// waitLock waits up to 10 s for a lock to become free.
func waitLock(ctx context.Context, path string) (*fileLock, error) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		lock, err := tryLock(path)
		if err != nil || lock != nil || time.Now().After(deadline) || ctx.Err() != nil {
			return lock, err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// cleanLoopbackLocks removes the loopback block locks nobody holds.
func cleanLoopbackLocks(stateDir string) error {
	entries, err := os.ReadDir(filepath.Join(stateDir, "loopback"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("list loopback locks: %w", err)
	}
	for _, e := range entries {
		lock, err := tryLock(filepath.Join(stateDir, "loopback", e.Name()))
		if err != nil {
			return err
		}
		lock.release()
	}
	return nil
}

// reclaim removes what a dead lab called name left in this state folder:
// its namespaces (and the processes in them) and its folder. The caller
// holds the lab's name lock, so nothing of that name in this state folder
// belongs to a running lab. Namespaces are touched only when the folder
// shows such a lab existed here: a lab of the same name run from another
// state folder is not ours to remove (creating ours then fails clearly).
func reclaim(ctx context.Context, dir, name string, log *zap.Logger) error {
	if _, err := os.Stat(dir); err != nil {
		return nil
	}
	if os.Geteuid() == 0 {
		removed, err := netns.Clean(ctx, name, log)
		if err != nil {
			return err
		}
		if removed.Namespaces > 0 || removed.Processes > 0 {
			log.Info("removed what a dead lab of the same name left",
				zap.Int("namespaces", removed.Namespaces), zap.Int("processes", removed.Processes))
		}
	}
	if err := removeLabDir(dir); err != nil {
		return fmt.Errorf("remove old lab folder: %w", err)
	}
	return nil
}
