package bird

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/render")

// inCI reports whether the test runs in CI, where missing prerequisites are
// failures rather than reasons to skip.
func inCI() bool { return os.Getenv("CI") == "true" }

// skipOrFail skips the test outside CI and fails it in CI.
func skipOrFail(t *testing.T, format string, args ...any) {
	t.Helper()
	if inCI() {
		t.Fatalf("CI=true: "+format, args...)
	}
	t.Skipf("skipping outside CI (CI != \"true\"): "+format, args...)
}

// requireRoot skips (outside CI) or fails (in CI) when not running as root.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		skipOrFail(t, "test needs root")
	}
}

// requireBinaries returns bird and birdc for v, skipping (outside CI) or
// failing (in CI) when they are not installed by .ci/install-daemons.sh.
func requireBinaries(t *testing.T, v Version) (bird, birdc string) {
	t.Helper()
	b := DefaultBinaries(v)
	for _, p := range []string{b.Bird, b.Birdc} {
		if _, err := exec.LookPath(p); err != nil {
			skipOrFail(t, "%s binary %s not found (run .ci/install-daemons.sh): %v", v, p, err)
		}
	}
	return b.Bird, b.Birdc
}

// goldenFiles globs testdata and fails on an empty result, so that a test
// over zero cases cannot pass silently.
func goldenFiles(t *testing.T, pattern string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", pattern))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no files match testdata/%s", pattern)
	}
	return files
}
