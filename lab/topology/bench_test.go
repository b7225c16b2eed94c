package topology

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkParse measures loading the full example topology.
func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("testdata", "good", "calico-mesh.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("calico-mesh.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}
