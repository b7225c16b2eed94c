package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/peerlab/peerlab/internal/rotatelog"
	"github.com/peerlab/peerlab/lab"
	"github.com/peerlab/peerlab/server"
)

// TestDetachedOwnerLogRotatesAndKeepsPanics checks the files of a detached
// lab's owner: its log (<state>/logs/NAME.log) is 0600 and rotates under
// a tiny --log-file-max-size, keeping --log-file-keep old files, none past
// the cap; a panic of the owner lands in NAME.stderr (0600), not in the
// log; down of the crashed lab removes every one of those files.
func TestDetachedOwnerLogRotatesAndKeepsPanics(t *testing.T) {
	requireRoot(t, "ip")
	t.Setenv(testHooksEnv, "1") // the owner panics on server.TestPanicFault
	e := newLabEnv(t)
	file, name := e.topology("calico-mesh.yaml", "dlog", "")
	const maxSize, keep = 2048, 2
	r := e.mustRun(90*time.Second, "up", "-d", file, "--log-level", "debug",
		"--log-file-max-size", "2048", "--log-file-keep", "2")
	logPath, stderrPath := lab.OwnerLog(e.dir, name), lab.OwnerStderr(e.dir, name)
	if !strings.Contains(r.stdout, "log "+logPath) {
		t.Errorf("up -d said %q; want it to name the log %s", r.stdout, logPath)
	}
	e.waitStatus(name, "all sessions Established", 30*time.Second, allEstablished(12))

	// At debug level bring-up and the status calls log far more than
	// three files of 2 KiB: the log has rotated and keeps two old files.
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(logPath + ".2"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s.2 did not appear: the owner's log did not rotate twice", logPath)
		}
		_, _ = e.status(name) // more debug lines
		time.Sleep(100 * time.Millisecond)
	}
	old, err := rotatelog.Backups(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(old) != keep {
		t.Errorf("old log files %v; want %d (--log-file-keep)", old, keep)
	}
	for _, p := range []string{logPath, logPath + ".1", logPath + ".2", stderrPath} {
		info, err := os.Stat(p)
		if err != nil {
			t.Errorf("owner file: %v", err)
			continue
		}
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", p, info.Mode().Perm())
		}
		if strings.Contains(p, ".log") && info.Size() > maxSize {
			t.Errorf("%s holds %d bytes, past the cap of %d", p, info.Size(), maxSize)
		}
	}
	if data, _ := os.ReadFile(logPath + ".1"); !strings.Contains(string(data), `"level":"`) {
		t.Errorf("%s does not hold the owner's JSON log: %q", logPath+".1", data)
	}

	// A panic of the owner goes to its stderr file, not to the log.
	st, err := lab.ReadState(e.dir, name)
	if err != nil {
		t.Fatal(err)
	}
	e.mustRun(15*time.Second, "fault", name, "inject", server.TestPanicFault, "--node", "node1")
	deadline = time.Now().Add(30 * time.Second)
	for !pidGone(st.PID) {
		if time.Now().After(deadline) {
			t.Fatalf("owner pid %d still runs after %s", st.PID, server.TestPanicFault)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if data, _ := os.ReadFile(stderrPath); !strings.Contains(string(data), "panic: peerlab test hook") {
		t.Errorf("%s does not hold the owner's panic: %q", stderrPath, data)
	}
	for _, p := range []string{logPath, logPath + ".1", logPath + ".2"} {
		if data, _ := os.ReadFile(p); strings.Contains(string(data), "panic: peerlab test hook") {
			t.Errorf("the panic went to the log %s", p)
		}
	}

	// down of the crashed lab removes the log, its old files and stderr.
	e.mustRun(60*time.Second, "down", name)
	ents, err := os.ReadDir(filepath.Join(e.dir, "logs"))
	if err != nil {
		t.Fatal(err)
	}
	for _, ent := range ents {
		t.Errorf("after down: %s left in logs/", ent.Name())
	}
}
