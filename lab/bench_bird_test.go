package lab

// BenchmarkBIRDMesh20 plays 20 BIRD 1.6 nodes in Calico's full mesh (190
// sessions) in namespace mode and reports the time from the start of Up
// until every session is Established at both ends. Needs root and BIRD:
//
//	go test -run '^$' -bench BIRDMesh20 -benchtime 3x ./lab/

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/peerlab/peerlab/lab/topology"
)

// birdMeshYAML writes a topology of n BIRD nodes in one Calico mesh.
func birdMeshYAML(name string, n int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "name: %s\ndefaults: {asn: 64512, kind: bird, timers: {hold: 9s, keepalive: 3s}}\nnodes:\n", name)
	names := make([]string, n)
	for i := range n {
		names[i] = fmt.Sprintf("n%d", i+1)
		fmt.Fprintf(&b, "  %s: {address: 10.20.0.%d, prefixes: [10.244.%d.0/26]}\n", names[i], i+1, i+1)
	}
	fmt.Fprintf(&b, "peerings:\n  - mesh: [%s]\nexpect:\n  - established: all\n    within: 60s\n", strings.Join(names, ", "))
	return []byte(b.String())
}

func BenchmarkBIRDMesh20(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root for network namespaces")
	}
	topo, err := topology.Parse("bird-mesh20.yaml", birdMeshYAML(fmt.Sprintf("bm20-%d", os.Getpid()%10000), 20))
	if err != nil {
		b.Fatal(err)
	}
	for range b.N {
		start := time.Now()
		l, err := Up(context.Background(), topo, Options{StateDir: "/tmp/plbench", Mode: ModeNamespace})
		if err != nil {
			b.Fatal(err)
		}
		up := time.Since(start)
		res := l.Check(context.Background(), CheckOptions{})
		took := time.Since(start)
		b.StopTimer()
		if derr := l.Down(); derr != nil {
			b.Error(derr)
		}
		if !res[0].OK {
			b.Fatalf("not all Established: %s", res[0].Detail)
		}
		b.Logf("20 namespaces and BIRDs up after %s; 190 sessions Established at both ends after %s", up, took)
		b.ReportMetric(up.Seconds(), "s-up")
		b.ReportMetric(took.Seconds(), "s-to-established")
		b.StartTimer()
	}
}
