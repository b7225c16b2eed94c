package diagnose

import (
	"context"
	"testing"
	"time"
)

// BenchmarkDiagnoseArtifacts measures what `peerlab diagnose DIR` runs
// (DiagnoseArtifacts: load, recognise, diagnose) on a synthetic bundle of
// 1,000, 2,000 and 5,000 files (200, 400 and 1,000 nodes, five files each,
// two route reflectors peering with every node; see synthetic_test.go),
// and on a 300-node full mesh (mesh300: 1,500 files of 300 peers each).
// The bundle is written once per size, outside the timed loop. It also
// reports the diagnosis alone (diagnose-ms/op) from a separate load.
func BenchmarkDiagnoseArtifacts(b *testing.B) {
	for _, sz := range []struct {
		name  string
		files int
		mesh  bool
	}{{"1k", 1000, false}, {"2k", 2000, false}, {"5k", 5000, false}, {"mesh300", 1500, true}} {
		b.Run(sz.name, func(b *testing.B) {
			dir := b.TempDir()
			if n := writeSyntheticBundle(b, dir, sz.files, sz.mesh); n != sz.files {
				b.Fatalf("wrote %d files, want %d", n, sz.files)
			}
			ctx := context.Background()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				rep, err := DiagnoseArtifacts(ctx, []string{dir}, ArtifactOptions{})
				if err != nil {
					b.Fatal(err)
				}
				if len(rep.Findings) == 0 || len(rep.Evidence) < sz.files*4/5 {
					b.Fatalf("%d findings from %d pieces of evidence", len(rep.Findings), len(rep.Evidence))
				}
			}
			b.StopTimer()
			c, err := LoadArtifacts([]string{dir}, ArtifactOptions{})
			if err != nil {
				b.Fatal(err)
			}
			start := time.Now()
			if _, err := DiagnoseContext(ctx, c); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(time.Since(start).Microseconds())/1000, "diagnose-ms/op")
		})
	}
}
