package main

// BenchmarkDiagnoseCluster50 measures `peerlab diagnose --kubeconfig FILE`
// with its defaults on a 50-node kubespray cluster (namespace mode: 3
// masters, 47 workers with nginx-proxy, 1225 mesh sessions): the nodes,
// the kube-system pods and events, and from each of the 50 calico-node
// pods three execs over WebSocket and its log, diagnosed by the artifacts
// engine. The lab's API server listens inside the lab, so the command runs
// in the first master (peerlab exec), as the tests do. Measured in the
// same run, the peer: `peerlab diagnose DIR` (artifacts mode) on the
// folder the cluster diagnosis saved, the same evidence without gathering.
//
//	go test -run '^$' -bench DiagnoseCluster50 -benchtime 3x ./cmd/peerlab/

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func BenchmarkDiagnoseCluster50(b *testing.B) {
	requireRoot(b, append(birdBinaries, "nginx")...)
	const nodes, sessions = 50, 50 * 49
	e := newLabEnv(b)
	name := uniqueLabName("bd")
	e.names = append(e.names, name)
	file := filepath.Join(e.dir, name+".yaml")
	if err := os.WriteFile(file, []byte(kubesprayYAML(name, nodes, true)), 0o644); err != nil {
		b.Fatal(err)
	}
	e.mustRun(300*time.Second, "up", "-d", file)
	defer e.run(300*time.Second, "down", name)
	e.waitStatus(name, "every session Established", 300*time.Second, allEstablished(sessions))
	kc := filepath.Join(e.dir, "kubeconfig")
	if err := os.WriteFile(kc, []byte(e.mustRun(30*time.Second, "kubeconfig", name).stdout), 0o600); err != nil {
		b.Fatal(err)
	}
	saved := filepath.Join(e.dir, "evidence")
	var cluster, artifacts time.Duration
	b.ResetTimer()
	for range b.N {
		_ = os.RemoveAll(saved)
		start := time.Now()
		r := e.run(120*time.Second, "exec", name, "n1", "--", e.bin, "diagnose", "--kubeconfig", kc, "--save-artifacts", saved, "-o", "json")
		cluster += time.Since(start)
		if r.code != 0 || strings.Contains(r.stdout, "partial evidence") {
			b.Fatalf("diagnose --kubeconfig on a healthy 50-node cluster: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		start = time.Now()
		r = e.run(120*time.Second, "exec", name, "n1", "--", e.bin, "diagnose", saved, "-o", "json")
		artifacts += time.Since(start)
		if r.code != 0 {
			b.Fatalf("diagnose on the saved folder: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	}
	b.StopTimer()
	n := float64(b.N)
	b.Logf("50-node kubespray cluster: diagnose --kubeconfig %.2f s; artifacts mode on the same evidence %.2f s; ratio %.1f",
		cluster.Seconds()/n, artifacts.Seconds()/n, cluster.Seconds()/artifacts.Seconds())
	b.ReportMetric(cluster.Seconds()/n, "s-cluster50")
	b.ReportMetric(artifacts.Seconds()/n, "s-artifacts50")
	b.ReportMetric(cluster.Seconds()/artifacts.Seconds(), "ratio")
}
