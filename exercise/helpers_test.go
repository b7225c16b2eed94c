package exercise

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// requireLab skips unless the test can run labs (root, BIRD, nginx); when
// CI=true it fails instead, so CI never skips it silently.
func requireLab(t *testing.T) {
	t.Helper()
	var missing string
	switch {
	case os.Geteuid() != 0:
		missing = "root"
	default:
		for _, bin := range []string{"bird", "birdc", "nginx", "nft", "python3", "ss", "curl"} {
			if _, err := exec.LookPath(bin); err != nil {
				missing = bin
				break
			}
		}
	}
	if missing == "" {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("exercise lab tests need %s (CI=true, so this is a failure, not a skip)", missing)
	}
	t.Skipf("exercise lab tests need %s; skipped because CI is not \"true\"", missing)
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
