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

// ErrUnsafeStateDir is returned for a state folder another user owns or
// may write: whoever controls it could plant state files and sockets.
var ErrUnsafeStateDir = errors.New("unsafe state folder")

// PrepareStateDir creates the state folder when missing (mode 0700; 0755
// for root, whose socket members of --socket-group must reach) and checks
// an existing one: a real directory, not a symlink, owned by this user and
// writable by no one else. A folder of this user's that others may read is
// made 0700 (root's keeps its read bits). Every command that keeps state
// calls it before using the folder.
func PrepareStateDir(dir string) error {
	root := os.Geteuid() == 0
	mode := os.FileMode(0o700)
	if root {
		mode = 0o755
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return fmt.Errorf("create parent of state folder %s: %w", dir, err)
	}
	if err := os.Mkdir(dir, mode); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("create state folder %s: %w", dir, err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("state folder %s: %w", dir, err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	switch {
	case fi.Mode()&os.ModeSymlink != 0 || !fi.IsDir():
		return fmt.Errorf("state folder %s: %w: not a directory (a symlink?)", dir, ErrUnsafeStateDir)
	case !ok || int(st.Uid) != os.Geteuid():
		return fmt.Errorf("state folder %s: %w: owned by uid %d, not by this user (%d); remove it or give --state-dir", dir, ErrUnsafeStateDir, st.Uid, os.Geteuid())
	case fi.Mode().Perm()&0o022 != 0:
		return fmt.Errorf("state folder %s: %w: mode %04o lets others write to it", dir, ErrUnsafeStateDir, fi.Mode().Perm())
	}
	if !root && fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("state folder %s: chmod 700: %w", dir, err)
		}
	}
	return nil
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
