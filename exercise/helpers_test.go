package exercise

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/peerlab/peerlab/internal/testgate"
)

// requireLab skips unless the test can run labs (root, BIRD, nginx); when
// CI=true it fails instead, so CI never skips it silently.
func requireLab(t *testing.T) {
	t.Helper()
	testgate.Require(t, true, "bird", "birdc", "nginx", "nft", "python3", "ss", "curl")
}

// buildPeerlab builds the peerlab binary into a test folder.
func buildPeerlab(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "peerlab")
	out, err := exec.Command("go", "build", "-o", bin, "../cmd/peerlab").CombinedOutput()
	if err != nil {
		t.Fatalf("build peerlab: %v\n%s", err, out)
	}
	return bin
}
