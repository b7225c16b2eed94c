package lab

import (
	"os"
	"path/filepath"
	"sort"
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
	for _, n := range []string{"a.log", "a.log.1", "a.log.2", "a.stderr", "ab.log", "ab.log.1", "ab.stderr", "c.stderr"} {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
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
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	sort.Strings(left)
	if want := "ab.log ab.log.1 ab.stderr c.stderr"; strings.Join(left, " ") != want {
		t.Errorf("left after RemoveOwnerFiles: %v, want %s", left, want)
	}
}
