package lab

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// ErrLabExists is returned when a lab of the same name already runs on this host.
var ErrLabExists = errors.New("a lab with this name is already running")

// DefaultStateDir is where labs keep their lock and state files unless told
// otherwise: /run/peerlab for root, else $XDG_RUNTIME_DIR/peerlab, else a
// per-user folder under the temporary directory.
func DefaultStateDir() string {
	if os.Geteuid() == 0 {
		return "/run/peerlab"
	}
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "peerlab")
	}
	return filepath.Join(os.TempDir(), "peerlab-"+strconv.Itoa(os.Geteuid()))
}

// fileLock is an exclusive advisory lock held on a file for as long as the
// process keeps it open. The kernel drops it when the process dies, even by
// SIGKILL, so a stale lock file never blocks a later lab.
type fileLock struct {
	f *os.File
}

// tryLock takes an exclusive lock on path without waiting. It reports
// (nil, nil) when another process holds the lock.
func tryLock(path string) (*fileLock, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("create state folder: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, nil
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return &fileLock{f: f}, nil
}

// release drops the lock and removes the lock file.
func (l *fileLock) release() {
	if l == nil || l.f == nil {
		return
	}
	os.Remove(l.f.Name())
	l.f.Close()
	l.f = nil
}
