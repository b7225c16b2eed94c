package bird

import (
	"flag"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/peerlab/peerlab/internal/testgate"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/render")

// requireRoot skips (outside CI) or fails (in CI) when not running as root.
func requireRoot(t *testing.T) {
	t.Helper()
	testgate.RequireRoot(t, "BIRD in network namespaces")
}

// requireBinaries returns bird and birdc for v, skipping (outside CI) or
// failing (in CI) when they are not installed by .ci/install-daemons.sh.
func requireBinaries(t *testing.T, v Version) (bird, birdc string) {
	t.Helper()
	b := DefaultBinaries(v)
	for _, p := range []string{b.Bird, b.Birdc} {
		if _, err := exec.LookPath(p); err != nil {
			testgate.SkipOrFail(t, "%s binary %s not found (run .ci/install-daemons.sh): %v", v, p, err)
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
