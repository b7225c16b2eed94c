package rotatelog

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// files lists the folder's file names with their sizes and modes.
func files(t *testing.T, dir string) map[string]os.FileInfo {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]os.FileInfo{}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = info
	}
	return out
}

// record is the i-th test log line (20 bytes).
func record(i int) []byte { return fmt.Appendf(nil, "record %012d\n", i) }

// TestRotationHonoursSizeAndKeep writes many records through writers of
// several sizes and keep counts and checks that no file passes the size,
// that exactly Keep old files remain, that every file is 0600, and that
// the newest records are in PATH and the ones before in PATH.1.
func TestRotationHonoursSizeAndKeep(t *testing.T) {
	for _, tc := range []struct {
		name    string
		maxSize int64
		keep    int
		records int
	}{
		{"keep none", 100, 0, 50},
		{"keep one", 100, 1, 50},
		{"keep three", 100, 3, 200},
		{"record fits exactly", 40, 2, 30},
		{"fewer rotations than keep", 100, 5, 12},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "host.log")
			rotations := 0
			w, err := Open(path, Options{MaxSize: tc.maxSize, Keep: tc.keep, OnRotate: func() { rotations++ }})
			if err != nil {
				t.Fatal(err)
			}
			for i := range tc.records {
				if n, err := w.Write(record(i)); err != nil || n != 20 {
					t.Fatalf("write %d: %d %v", i, n, err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			perFile := int(tc.maxSize / 20)
			wantRotations := (tc.records - 1) / perFile
			if rotations != wantRotations {
				t.Errorf("%d rotations, want %d", rotations, wantRotations)
			}
			got := files(t, dir)
			wantFiles := []string{"host.log"}
			for i := 1; i <= min(tc.keep, wantRotations); i++ {
				wantFiles = append(wantFiles, fmt.Sprintf("host.log.%d", i))
			}
			var names []string
			for n, info := range got {
				names = append(names, n)
				if info.Size() > tc.maxSize {
					t.Errorf("%s is %d bytes, the cap is %d", n, info.Size(), tc.maxSize)
				}
				if info.Mode().Perm() != 0o600 {
					t.Errorf("%s has mode %v, want 0600", n, info.Mode().Perm())
				}
			}
			sort.Strings(names)
			sort.Strings(wantFiles)
			if strings.Join(names, " ") != strings.Join(wantFiles, " ") {
				t.Fatalf("files %v, want %v", names, wantFiles)
			}
			// The current file ends with the last record; PATH.1 holds the
			// records just before PATH's first one.
			cur, _ := os.ReadFile(path)
			if !bytes.HasSuffix(cur, record(tc.records-1)) {
				t.Errorf("host.log ends %q, want the last record", cur)
			}
			if tc.keep > 0 && wantRotations > 0 {
				prev, _ := os.ReadFile(path + ".1")
				first := tc.records - len(cur)/20
				if !bytes.HasSuffix(prev, record(first-1)) || len(prev) != perFile*20 {
					t.Errorf("host.log.1 is %q, want %d records ending with record %d", prev, perFile, first-1)
				}
			}
		})
	}
}

// TestOversizedRecordIsCut checks that a record larger than the cap
// fills one file of exactly the cap, not more.
func TestOversizedRecordIsCut(t *testing.T) {
	path := filepath.Join(t.TempDir(), "host.log")
	w, err := Open(path, Options{MaxSize: 64, Keep: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.Write([]byte("short\n")); err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("x"), 1000)
	if n, err := w.Write(big); err != nil || n != len(big) {
		t.Fatalf("write of %d bytes: %d %v", len(big), n, err)
	}
	cur, _ := os.ReadFile(path)
	prev, _ := os.ReadFile(path + ".1")
	if len(cur) != 64 || string(prev) != "short\n" {
		t.Errorf("host.log %d bytes, host.log.1 %q; want 64 bytes and the short record", len(cur), prev)
	}
}

// TestOpenAppendsAndPrunes checks that Open keeps an existing log (made
// 0600), appends to it, and removes old files beyond Keep left by a run
// that kept more; names that are not PATH.N are left alone.
func TestOpenAppendsAndPrunes(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "host.log")
	for name, mode := range map[string]os.FileMode{"host.log": 0o644, "host.log.1": 0o600, "host.log.2": 0o600,
		"host.log.3": 0o600, "host.log.x": 0o600, "host.log.2.gz": 0o600, "other.log.4": 0o600} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("old\n"), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(filepath.Join(dir, name), mode); err != nil {
			t.Fatal(err)
		}
	}
	w, err := Open(path, Options{MaxSize: 1 << 20, Keep: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("new\n")); err != nil {
		t.Fatal(err)
	}
	w.Close()
	got := files(t, dir)
	var names []string
	for n := range got {
		names = append(names, n)
	}
	sort.Strings(names)
	if want := "host.log host.log.1 host.log.2.gz host.log.x other.log.4"; strings.Join(names, " ") != want {
		t.Errorf("files after Open with Keep 1: %v, want %s", names, want)
	}
	if data, _ := os.ReadFile(path); string(data) != "old\nnew\n" {
		t.Errorf("host.log is %q, want the old line then the new one", data)
	}
	if m := got["host.log"].Mode().Perm(); m != 0o600 {
		t.Errorf("host.log mode %v after Open, want 0600", m)
	}
}

// TestOpenRefusesBadOptions checks the errors for a size or keep count
// that cannot work.
func TestOpenRefusesBadOptions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "host.log")
	for _, tc := range []struct {
		opts Options
		want string
	}{
		{Options{MaxSize: 0, Keep: 1}, "maximum size 0: must be positive"},
		{Options{MaxSize: 10, Keep: -1}, "keep -1 old files: must not be negative"},
	} {
		if _, err := Open(path, tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%+v): %v, want an error saying %q", tc.opts, err, tc.want)
		}
	}
}

// TestRemove checks that Remove takes the log and every PATH.N, and
// nothing else.
func TestRemove(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.log")
	for _, name := range []string{"a.log", "a.log.1", "a.log.7", "a.log.yaml", "ab.log.1"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := Remove(path); err != nil {
		t.Fatal(err)
	}
	var names []string
	for n := range files(t, dir) {
		names = append(names, n)
	}
	sort.Strings(names)
	if strings.Join(names, " ") != "a.log.yaml ab.log.1" {
		t.Errorf("left after Remove: %v, want a.log.yaml ab.log.1", names)
	}
	if err := Remove(path); err != nil {
		t.Errorf("Remove of a log already gone: %v", err)
	}
}

// TestTrimFile checks that an append-mode file past the limit is emptied
// and written on from its start, and one within it is left alone.
func TestTrimFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "host.stderr")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.WriteString("0123456789")
	if err := TrimFile(f, 10); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(path); string(data) != "0123456789" {
		t.Errorf("a file at the limit became %q", data)
	}
	f.WriteString("x")
	if err := TrimFile(f, 10); err != nil {
		t.Fatal(err)
	}
	f.WriteString("panic: after\n")
	if data, _ := os.ReadFile(path); string(data) != "panic: after\n" {
		t.Errorf("after trimming, the file is %q, want only what was written since", data)
	}
}
