package lab

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestPrepareStateDir: a missing folder is created (0700 for a user,
// 0755 for root); a symlink, a folder others may write and (as root) a
// folder another user owns are refused.
func TestPrepareStateDir(t *testing.T) {
	base := t.TempDir()
	fresh := filepath.Join(base, "fresh", "peerlab")
	if err := PrepareStateDir(fresh); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(fresh)
	if err != nil {
		t.Fatal(err)
	}
	want := os.FileMode(0o700)
	if os.Geteuid() == 0 {
		want = 0o755
	}
	if fi.Mode().Perm() != want {
		t.Errorf("created mode %04o, want %04o", fi.Mode().Perm(), want)
	}
	mk := func(name string, mode os.FileMode) string {
		p := filepath.Join(base, name)
		if err := os.Mkdir(p, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	link := filepath.Join(base, "link")
	if err := os.Symlink(fresh, link); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, dir, want string
		root            bool
	}{
		{"symlink", link, "not a directory", false},
		{"world writable", mk("open", 0o777), "lets others write", false},
		{"group writable", mk("group", 0o770), "lets others write", false},
		{"owned by another user", mk("foreign", 0o700), "owned by uid 65534", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.root {
				requireRoot(t)
				if err := os.Chown(tt.dir, 65534, 65534); err != nil {
					t.Fatal(err)
				}
			}
			err := PrepareStateDir(tt.dir)
			if !errors.Is(err, ErrUnsafeStateDir) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("PrepareStateDir(%s): %v; want %v with %q", tt.dir, err, ErrUnsafeStateDir, tt.want)
			}
		})
	}
}

// TestCleanForceSparesUnverifiedPID: with the lab's lock held (so clean
// --force would stop the owner), a state file naming an unrelated process
// without its true start time never gets that process signalled; a state
// file naming it with its true start time does.
func TestCleanForceSparesUnverifiedPID(t *testing.T) {
	tests := []struct {
		name     string
		pidStart func(real uint64) uint64 // 0: not recorded
		killed   bool
	}{
		{"no start time recorded", func(uint64) uint64 { return 0 }, false},
		{"PID reused by another process", func(real uint64) uint64 { return real + 1 }, false},
		{"verified owner", func(real uint64) uint64 { return real }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stateDir := t.TempDir()
			name := "cleanpid"
			sleeper := exec.Command("sleep", "60")
			if err := sleeper.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan struct{})
			go func() { sleeper.Wait(); close(exited) }()
			t.Cleanup(func() { sleeper.Process.Kill(); <-exited })
			real, err := ProcessStart(sleeper.Process.Pid)
			if err != nil {
				t.Fatal(err)
			}
			lock, err := tryLock(filepath.Join(stateDir, "labs", name+".lock"))
			if err != nil || lock == nil {
				t.Fatalf("take the lab lock: %v", err)
			}
			defer lock.release()
			if err := os.MkdirAll(LabDir(stateDir, name), 0o700); err != nil {
				t.Fatal(err)
			}
			// Written by hand: WriteState would record the true start time.
			data, _ := json.Marshal(LabState{Name: name, PID: sleeper.Process.Pid, PIDStart: tt.pidStart(real)})
			if err := os.WriteFile(filepath.Join(LabDir(stateDir, name), stateFileName), data, 0o600); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			rep, cerr := Clean(ctx, stateDir, name, true, nil)
			select {
			case <-exited:
				if !tt.killed {
					t.Fatalf("clean --force killed pid %d, which it could not verify as the owner", sleeper.Process.Pid)
				}
			case <-time.After(2 * time.Second):
				if tt.killed {
					t.Fatalf("clean --force did not stop the verified owner %d: %v", sleeper.Process.Pid, cerr)
				}
				if !errors.Is(cerr, ErrOwnerUnverified) || len(rep.Running) != 1 {
					t.Errorf("clean: report %+v, err %v; want the lab left running and %v", rep, cerr, ErrOwnerUnverified)
				}
				if err := syscall.Kill(sleeper.Process.Pid, 0); err != nil {
					t.Errorf("unrelated process gone: %v", err)
				}
			}
		})
	}
}
