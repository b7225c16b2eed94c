package lab

import (
	"context"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/peerlab/peerlab/internal/bird"

	"github.com/peerlab/peerlab/internal/procstat"
)

var injectN = flag.Int("inject-n", 100000, "prefixes BenchmarkInjectBIRD announces (1000000 for the full-table figure)")

// BenchmarkInjectBIRD measures a namespace-mode gobgp node injecting
// -inject-n generated /24s (minimal attributes) into BIRD 1.6: the time
// from starting the nodes until BIRD holds all of them, the agent's peak
// resident memory and what BIRD's `show memory` reports for the table.
// Run: go test -run '^$' -bench InjectBIRD -benchtime 1x ./lab/ [-args -inject-n 1000000]
func BenchmarkInjectBIRD(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root for network namespaces")
	}
	if _, err := exec.LookPath(bird.DefaultBinaries(bird.Bird1).Bird); err != nil {
		b.Skipf("BIRD 1.6 not installed (run .ci/install-daemons.sh): %v", err)
	}
	exe := filepath.Join(b.TempDir(), "peerlab")
	if out, err := exec.Command("go", "build", "-o", exe, "github.com/peerlab/peerlab/cmd/peerlab").CombinedOutput(); err != nil {
		b.Fatalf("go build cmd/peerlab: %v\n%s", err, out)
	}
	b.Setenv(AgentExeEnv, exe)
	for b.Loop() {
		benchInjectOnce(b, *injectN)
	}
}

// benchInjectOnce runs one injection of n prefixes and reports metrics.
func benchInjectOnce(b *testing.B, n int) {
	from := netip.MustParsePrefix("16.0.0.0/4")
	start := time.Now()
	l := startInjectLabTB(b, fmt.Sprintf(`
name: %%[2]s
nodes:
  up:
    address: %%[1]s.1
    asn: 65001
    routes: {generate: %d, from: 16.0.0.0/4, length: 24}
  edge: {address: %%[1]s.2, asn: 65002, kind: bird}
peerings:
  - between: [up, edge]
`, n))
	deadline := time.Now().Add(10 * time.Minute)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		got, err := l.birdCount(ctx, "edge", from)
		cancel()
		if err == nil && got == n {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("BIRD holds %d of %d routes after 10 minutes (err %v)", got, n, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	took := time.Since(start)
	b.ReportMetric(took.Seconds(), "s/table")
	b.ReportMetric(float64(n)/took.Seconds(), "routes/s")
	if r, ok := l.nodes["up"].(*remoteGoBGPNode); ok && r.cmd != nil {
		if hwm, err := procstat.PeakRSS(r.cmd.Process.Pid); err == nil && hwm > 0 {
			b.ReportMetric(float64(hwm)/(1<<20), "injector-peak-MiB")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if c, err := l.nodes["edge"].(BIRDNode).Client(ctx); err == nil {
		if lines, err := c.Cmd(ctx, "show memory"); err == nil {
			if total, err := bird.ParseMemoryTotal(bird.Text(lines)); err == nil {
				b.ReportMetric(float64(total)/(1<<20), "bird-memory-MiB")
			}
		}
	}
}
