package lab

import (
	"os/exec"
	"testing"

	"github.com/peerlab/peerlab/internal/bird"
	"github.com/peerlab/peerlab/internal/testgate"
)

// requireRoot needs root (network namespaces).
func requireRoot(t *testing.T) {
	t.Helper()
	testgate.RequireRoot(t, "network namespaces")
}

// requireBIRD needs root and both BIRD versions' binaries.
func requireBIRD(t *testing.T) {
	t.Helper()
	requireRoot(t)
	for _, v := range []bird.Version{bird.Bird1, bird.Bird2} {
		b := bird.DefaultBinaries(v)
		if _, err := exec.LookPath(b.Bird); err != nil {
			testgate.SkipOrFail(t, "%s binary %s not found (run .ci/install-daemons.sh): %v", v, b.Bird, err)
		}
	}
}
