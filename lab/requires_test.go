package lab

import (
	"os"
	"os/exec"
	"testing"

	"github.com/peerlab/peerlab/internal/bird"
)

// skipOrFail skips a test whose prerequisites are missing, except under
// CI=true, where a missing prerequisite is a failure: CI must run them.
func skipOrFail(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true, so not skipping: "+format, args...)
	}
	t.Skipf("skipped because CI is not \"true\": "+format, args...)
}

// requireRoot needs root (network namespaces).
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		skipOrFail(t, "test needs root (network namespaces)")
	}
}

// requireBIRD needs root and both BIRD versions' binaries.
func requireBIRD(t *testing.T) {
	t.Helper()
	requireRoot(t)
	for _, v := range []bird.Version{bird.Bird1, bird.Bird2} {
		b := bird.DefaultBinaries(v)
		if _, err := exec.LookPath(b.Bird); err != nil {
			skipOrFail(t, "%s binary %s not found (run .ci/install-daemons.sh): %v", v, b.Bird, err)
		}
	}
}
