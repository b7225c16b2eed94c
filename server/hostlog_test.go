package server

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/peerlab/peerlab/lab"
	pb "github.com/peerlab/peerlab/proto/peerlab/v1"
)

// serveFilesOf lists serve's files of lab name (NAME.*) with their
// sizes and modes.
func serveFilesOf(t *testing.T, stateDir, name string) map[string]os.FileInfo {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(lab.ServeDir(stateDir), name+".*"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]os.FileInfo{}
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(p)] = info
	}
	return out
}

// TestHostLogIsBounded runs a lab through serve with a 1 KiB host log
// cap and two old files, makes its host log much more than that (each
// refused fault injection is one info line), and checks that the log was
// rotated within the caps (sizes, count, 0600), that the host's standard
// error was emptied at a rotation, that a panic of the host is quoted in
// the lab's failure, and that DeleteLab removes every file.
func TestHostLogIsBounded(t *testing.T) {
	dir := shortTempDir(t)
	limits := HostLogLimits{MaxSize: 1024, Keep: 2}
	ts := startServerWith(t, dir, ManagerOptions{HostLog: limits})
	c := ts.client
	ctx := ctxFor(t, 90*time.Second)
	name := labName(t, "a")
	created, err := c.Labs.CreateLab(ctx, &pb.CreateLabRequest{
		Source: &pb.CreateLabRequest_Yaml{Yaml: twoNodes(name)}, Mode: pb.LabMode_LAB_MODE_LOOPBACK})
	if err != nil {
		t.Fatalf("CreateLab: %v", err)
	}
	pid := created.GetLab().GetHostPid()

	// Stray output on the host's standard error, larger than the cap: the
	// next rotation must empty it.
	stderrPath := lab.HostStderr(dir, name)
	f, err := os.OpenFile(stderrPath, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatalf("the host's stderr file: %v", err)
	}
	_, err = f.Write(bytes.Repeat([]byte("stray line\n"), 400))
	f.Close()
	if err != nil {
		t.Fatal(err)
	}

	// A network fault is refused in loopback mode and logged at info: 40
	// such lines are several KiB, several rotations.
	for i := range 40 {
		_, err := c.Faults.InjectFault(ctx, &pb.InjectFaultRequest{Lab: name,
			Fault: &pb.Fault{Name: "tcp179-drop", Node: "node1"}})
		if err == nil {
			t.Fatalf("injection %d of tcp179-drop in loopback mode succeeded; the test needs it refused", i)
		}
	}
	files := serveFilesOf(t, dir, name)
	var names []string
	for n, info := range files {
		names = append(names, n)
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", n, info.Mode().Perm())
		}
		if strings.Contains(n, ".log") && info.Size() > limits.MaxSize {
			t.Errorf("%s is %d bytes, the cap is %d", n, info.Size(), limits.MaxSize)
		}
	}
	sort.Strings(names)
	want := []string{name + ".log", name + ".log.1", name + ".log.2", name + ".sock", name + ".stderr", name + ".yaml"}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Fatalf("serve's files of the lab: %v, want %v (the log and two old files)", names, want)
	}
	if data, _ := os.ReadFile(lab.HostLog(dir, name)); !bytes.Contains(data, []byte(`"fault inject"`)) {
		t.Errorf("the host log does not hold the injections' lines: %q", data)
	}
	if size := files[name+".stderr"].Size(); size != 0 {
		t.Errorf("the host's stderr is %d bytes after rotations, want it emptied", size)
	}

	// A panic: the failure quotes the crash output.
	watch, err := c.Labs.WatchLab(ctx, &pb.WatchLabRequest{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Faults.InjectFault(ctx, &pb.InjectFaultRequest{Lab: name,
		Fault: &pb.Fault{Name: TestPanicFault, Node: "node1"}}); err != nil {
		t.Fatalf("inject the panic hook: %v", err)
	}
	for {
		ev, err := watch.Recv()
		if err != nil {
			t.Fatalf("WatchLab ended without a FAILED state change: %v", err)
		}
		if ev.GetState() != nil {
			break
		}
	}
	got, err := c.Labs.GetLab(ctx, &pb.GetLabRequest{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	wantFailure := fmt.Sprintf("lab host process %d exited: exit status 2; log %s ends: panic: peerlab test hook: %s",
		pid, stderrPath, TestPanicFault)
	if got.GetLab().GetState() != pb.LabState_LAB_STATE_FAILED || !strings.HasPrefix(got.GetLab().GetFailure(), wantFailure) {
		t.Errorf("GetLab after the panic: %v %q\nwant FAILED with a failure starting %q",
			got.GetLab().GetState(), got.GetLab().GetFailure(), wantFailure)
	}

	if _, err := c.Labs.DeleteLab(ctx, &pb.DeleteLabRequest{Name: name}); err != nil {
		t.Fatalf("DeleteLab: %v", err)
	}
	if left := serveFilesOf(t, dir, name); len(left) != 0 {
		t.Errorf("files left after DeleteLab: %v", left)
	}
}

// TestHostEndNote checks what a failure quotes: the panic from the crash
// output (from its first line on), else the end of the crash output, else
// the end of the log.
func TestHostEndNote(t *testing.T) {
	dir := t.TempDir()
	stderrPath, logPath := filepath.Join(dir, "l.stderr"), filepath.Join(dir, "l.log")
	for _, tc := range []struct {
		name, stderr, log, want string
	}{
		{"panic after other output", "noise\npanic: boom\n\ngoroutine 7 [running]:\nmain.f()\n", `{"msg":"x"}`,
			"log " + stderrPath + " ends: panic: boom goroutine 7 [running]: main.f()"},
		{"fatal error", "fatal error: concurrent map writes\n", "", "log " + stderrPath + " ends: fatal error: concurrent map writes"},
		{"an error message only", "peerlab: bring lab l up: no\n", "", "log " + stderrPath + " ends: peerlab: bring lab l up: no"},
		{"nothing on stderr", "\n", "line one\nline two\n", "log " + logPath + " ends: line one line two"},
		{"a word containing panic: is no panic", "xpanic: no\n", "", "log " + stderrPath + " ends: xpanic: no"},
		{"long panic is cut", "panic: " + strings.Repeat("a", 100), "", "log " + stderrPath + " ends: panic: " + strings.Repeat("a", 53)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(stderrPath, []byte(tc.stderr), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(logPath, []byte(tc.log), 0o600); err != nil {
				t.Fatal(err)
			}
			if got := HostEndNote(stderrPath, logPath, 60); got != tc.want {
				t.Errorf("HostEndNote = %q, want %q", got, tc.want)
			}
		})
	}
}
