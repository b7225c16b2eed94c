package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRunInterruptedTearsDown runs `peerlab run --keep` on the quickstart in
// loopback mode (no root needed), sends SIGINT once the report is out, and
// checks the process exits 0 and leaves nothing behind: no lab folder, no
// lock, no process, and the same lab can start again at once.
func TestRunInterruptedTearsDown(t *testing.T) {
	e := newLabEnv(t)
	file, name := e.topology("quickstart.yaml", "sigint", "")
	run := func() *exec.Cmd {
		cmd := exec.Command(e.bin, "run", file, "--keep", "--mode", "loopback", "--state-dir", e.dir, "--port", testPort(t))
		cmd.Stdout = os.Stdout
		return cmd
	}
	cmd := run()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	kept := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "kept running") {
				close(kept)
				break
			}
		}
		for sc.Scan() {
		}
	}()
	select {
	case <-kept:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("peerlab run --keep never said the lab was kept running")
	}
	if entries, _ := os.ReadDir(filepath.Join(e.dir, "labs")); len(entries) == 0 {
		t.Fatal("no lab folder or lock while the lab runs")
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("peerlab run after SIGINT: %v (want exit 0: every expectation held)", err)
		}
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("peerlab run did not exit within 30 s of SIGINT")
	}
	if entries, _ := os.ReadDir(filepath.Join(e.dir, "labs")); len(entries) != 0 {
		t.Errorf("after SIGINT the state folder still holds %v", names(entries))
	}
	if left := processesNaming(e.dir); len(left) != 0 {
		t.Errorf("processes left after SIGINT: %+v", left)
	}
	// The name and the addresses are free again: the same lab runs to the end.
	again := exec.Command(e.bin, "run", file, "--mode", "loopback", "--state-dir", e.dir, "--port", testPort(t))
	if out, err := again.CombinedOutput(); err != nil {
		t.Fatalf("lab %s again after SIGINT: %v\n%s", name, err, out)
	}
}

// names lists directory entries by name.
func names(entries []os.DirEntry) []string {
	out := make([]string, 0, len(entries))
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}
