package bird

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestStartDaemonHook checks that DaemonOptions.Start starts the command
// (here wrapping cmd.Start, as the lab wraps it to enter a namespace) and
// that its error reaches the caller.
func TestStartDaemonHook(t *testing.T) {
	t.Run("error is returned", func(t *testing.T) {
		boom := errors.New("boom")
		var got *exec.Cmd
		_, err := StartDaemon(context.Background(), DaemonOptions{
			Binaries:   Binaries{Bird: "/nonexistent/bird"},
			ConfigPath: "/nonexistent/bird.cfg", SocketPath: "/nonexistent/bird.ctl",
			Start: func(cmd *exec.Cmd) error { got = cmd; return boom },
		})
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v, want it to wrap %v", err, boom)
		}
		if got == nil || got.Path != "/nonexistent/bird" || got.SysProcAttr == nil || !got.SysProcAttr.Setpgid {
			t.Errorf("hook got cmd %+v, want the prepared bird command", got)
		}
	})
	t.Run("real daemon through the hook", func(t *testing.T) {
		requireRoot(t)
		requireBinaries(t, Bird1)
		a1, _, _ := labAddrs()
		p1, _ := labPorts()
		dir := t.TempDir()
		var cfg bytes.Buffer
		if err := RenderConfig(&cfg, Config{ASN: 64512, NodeIP: a1, ListenPort: p1}, Bird1); err != nil {
			t.Fatal(err)
		}
		cfgPath := filepath.Join(dir, "bird.cfg")
		if err := os.WriteFile(cfgPath, cfg.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		calls := 0
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		d, err := StartDaemon(ctx, DaemonOptions{Version: Bird1, ConfigPath: cfgPath, SocketPath: filepath.Join(dir, "ctl"),
			Start: func(cmd *exec.Cmd) error { calls++; return cmd.Start() }})
		if err != nil {
			t.Fatal(err)
		}
		defer d.Stop()
		if calls != 1 {
			t.Errorf("hook called %d times, want 1", calls)
		}
		c, err := d.Dial(ctx)
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
	})
}
