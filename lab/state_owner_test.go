package lab

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOwnerFiles checks that a detached owner's files (its rotated log
// with old files, its crash output) name their lab for clean (knownLabs),
// and that removing them leaves another lab's files alone.
func TestOwnerFiles(t *testing.T) {
	state := t.TempDir()
	dir := filepath.Join(state, "logs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeEmptyFiles(t, dir, "a.log", "a.log.1", "a.log.2", "a.stderr", "ab.log", "ab.log.1", "ab.stderr", "c.stderr")
	if got := OwnerLog(state, "a"); got != filepath.Join(dir, "a.log") {
		t.Errorf("OwnerLog = %s", got)
	}
	if got := OwnerStderr(state, "a"); got != filepath.Join(dir, "a.stderr") {
		t.Errorf("OwnerStderr = %s", got)
	}
	names, err := knownLabs(state)
	if err != nil {
		t.Fatal(err)
	}
	// c left only its crash output (an owner that died before its log).
	if got, want := strings.Join(names, " "), "a ab c"; got != want {
		t.Errorf("knownLabs = %q, want %q", got, want)
	}
	if err := RemoveOwnerFiles(state, "a"); err != nil {
		t.Fatal(err)
	}
	if left, want := dirListing(t, dir), "ab.log ab.log.1 ab.stderr c.stderr"; left != want {
		t.Errorf("left after RemoveOwnerFiles: %v, want %s", left, want)
	}
}
