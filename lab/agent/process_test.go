package agent

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestListen checks what Listen does with what it finds at the path.
func TestListen(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	t.Run("stale socket is replaced", func(t *testing.T) {
		path := filepath.Join(dir, "stale.sock")
		ln, err := net.Listen("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		ln.(*net.UnixListener).SetUnlinkOnClose(false)
		ln.Close() // leaves the file, as a SIGKILLed agent does
		ln, err = Listen(path)
		if err != nil {
			t.Fatalf("Listen over a stale socket: %v", err)
		}
		ln.Close()
		if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("socket file still there after Close: %v", err)
		}
	})
	t.Run("live agent is not displaced", func(t *testing.T) {
		path := filepath.Join(dir, "live.sock")
		ln, err := Listen(path)
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		if ln2, err := Listen(path); err == nil {
			ln2.Close()
			t.Fatal("Listen on a served socket succeeded")
		}
	})
	t.Run("regular file is left alone", func(t *testing.T) {
		path := filepath.Join(dir, "file")
		if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		if ln, err := Listen(path); err == nil {
			ln.Close()
			t.Fatal("Listen over a regular file succeeded")
		}
		if _, err := os.Stat(path); err != nil {
			t.Errorf("regular file removed: %v", err)
		}
	})
}

// TestAgentProcessExits runs the test binary as an agent child (see
// TestMain) and checks it exits 0 after Close and after SIGTERM, removing
// its socket.
func TestAgentProcessExits(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		stop func(t *testing.T, c *Client, cmd *exec.Cmd)
	}{
		{"Close", func(t *testing.T, c *Client, _ *exec.Cmd) {
			if err := c.Close(context.Background()); err != nil {
				t.Errorf("Close: %v", err)
			}
		}},
		{"SIGTERM", func(t *testing.T, c *Client, cmd *exec.Cmd) {
			defer c.Disconnect()
			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n := newTestNet(t)
			path := filepath.Join(t.TempDir(), "agent.sock")
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), childEnv+"="+path)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			t.Cleanup(func() { _ = cmd.Process.Kill() })

			var c *Client
			waitFor(t, 10*time.Second, "agent socket", func() (bool, error) {
				var err error
				c, err = Dial(context.Background(), path)
				return err == nil, err
			})
			cfg := StartConfig{Name: "a", ASN: 64512, RouterID: n.addr(1), ListenAddress: n.addr(1), ListenPort: n.port}
			if err := c.Start(context.Background(), cfg); err != nil {
				t.Fatal(err)
			}
			tc.stop(t, c, cmd)
			select {
			case err := <-exited:
				if err != nil {
					t.Errorf("agent exited with %v; stderr:\n%s", err, stderr.String())
				}
			case <-time.After(10 * time.Second):
				t.Fatal("agent still running 10 s later")
			}
			if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("socket left behind: %v", err)
			}
		})
	}
}
