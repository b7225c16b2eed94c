package lab

import (
	"os"
	"path/filepath"
	"testing"
)

// TestRemoveServeFiles checks that removing serve's files of a lab takes
// its topology copy, socket, crash output, host log and the log's old
// files, and leaves another lab's files and the captures alone.
func TestRemoveServeFiles(t *testing.T) {
	state := t.TempDir()
	dir := ServeDir(state)
	if err := os.MkdirAll(filepath.Join(dir, "a-capture"), 0o700); err != nil {
		t.Fatal(err)
	}
	writeEmptyFiles(t, dir, "a.yaml", "a.sock", "a.stderr", "a.log", "a.log.1", "a.log.2",
		"ab.log", "ab.log.1", "ab.stderr", "a-capture/x.pcap")
	if got := HostLog(state, "a"); got != filepath.Join(dir, "a.log") {
		t.Errorf("HostLog = %s", got)
	}
	if got := HostStderr(state, "a"); got != filepath.Join(dir, "a.stderr") {
		t.Errorf("HostStderr = %s", got)
	}
	if err := RemoveServeFiles(state, "a"); err != nil {
		t.Fatal(err)
	}
	if left, want := dirListing(t, dir), "a-capture ab.log ab.log.1 ab.stderr"; left != want {
		t.Errorf("left after RemoveServeFiles: %v, want %s", left, want)
	}
}
