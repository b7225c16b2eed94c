package bench

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/peerlab/peerlab/internal/testgate"
	"github.com/peerlab/peerlab/lab"
)

// requireDaemons skips a test that needs root, BIRD 1.6 and ExaBGP unless
// CI=true, where their absence fails it.
func requireDaemons(t *testing.T) {
	t.Helper()
	testgate.Require(t, true, "/usr/sbin/bird", "/usr/sbin/birdc", "exabgp")
}

// TestRunInject5000 runs the default injectors with 5,000 /24s into BIRD
// 1.6 and checks that each filled the target, was seen on the wire, had
// its memory and the target's read, and that the table prints every row,
// the ratio lines and the live rate; then the opt-in gobgp row alone.
func TestRunInject5000(t *testing.T) {
	requireDaemons(t)
	exe := filepath.Join(t.TempDir(), "peerlab")
	if out, err := exec.Command("go", "build", "-o", exe, "github.com/peerlab/peerlab/cmd/peerlab").CombinedOutput(); err != nil {
		t.Fatalf("go build cmd/peerlab: %v\n%s", err, out)
	}
	t.Setenv(lab.AgentExeEnv, exe)       // the gobgp row's agent and the peerlab rows' `peerlab inject`
	state, err := os.MkdirTemp("", "pb") // short: Unix socket paths
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(state) })
	const n = 5000
	check := func(t *testing.T, rows []Row, want []Injector) {
		t.Helper()
		if len(rows) != len(want) {
			t.Fatalf("got %d rows, want %d (%v)", len(rows), len(want), want)
		}
		for i, r := range rows {
			if r.Injector != want[i] {
				t.Errorf("row %d is %s, want %s", i, r.Injector, want[i])
			}
			if r.Reached != n {
				t.Errorf("%s: target holds %d routes, want %d", r.Injector, r.Reached, n)
			}
			if r.Wire.Prefixes < n || r.Wire.Gaps != 0 {
				t.Errorf("%s: capture shows %d prefixes (%d gaps), want at least %d", r.Injector, r.Wire.Prefixes, r.Wire.Gaps, n)
			}
			if r.Took <= 0 || r.FromNLRI <= 0 || r.FromNLRI > r.Took || r.PeakRSS <= 0 || r.TargetMemory <= 0 {
				t.Errorf("%s: took %v, from NLRI %v, peak RSS %d, target memory %d: want all positive, NLRI within took",
					r.Injector, r.Took, r.FromNLRI, r.PeakRSS, r.TargetMemory)
			}
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	rows, err := Run(ctx, Options{N: n, StateDir: state, Timeout: time.Minute, LiveBatch: 1000})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	check(t, rows, Injectors)
	for _, r := range rows {
		// 5,000 /24s fit in 5 full UPDATEs, batches of 1,000 in one each,
		// and End-of-RIB is an UPDATE too.
		if (r.Injector == Peerlab || r.Injector == PeerlabFIB || r.Injector == PeerlabLive) && r.Wire.Updates > 6 {
			t.Errorf("%s: %d UPDATEs for %d /24s, want at most 6", r.Injector, r.Wire.Updates, n)
		}
	}
	var out bytes.Buffer
	if err := Render(&out, n, "bird", rows); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"peerlab-live", "bird", "exabgp", "peerlab/BIRD:", "ExaBGP/peerlab:",
		"peerlab bytes/floor:", "peerlab RSS/target:", "routes/s", "floor = "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	t.Logf("\n%s", out.String())

	t.Run("gobgp", func(t *testing.T) {
		rows, err := Run(ctx, Options{N: n, StateDir: state, Timeout: time.Minute, Injectors: []Injector{GoBGP}})
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		check(t, rows, []Injector{GoBGP})
	})
}
