package main

// BenchmarkUpKubespray20 measures what a trainer waits for with
// `peerlab up -d` (as root: namespace mode, every node a host of its own)
// on a 20-node kubespray cluster with every role: 3 masters (apiserver,
// calico-node) and 17 workers (calico-node, kubespray-worker with real
// nginx), 190 mesh sessions that calico-node configures from the API
// server. It reports the time from the start of `up -d` until `status`
// shows every session Established at both ends, and, measured in the same
// run, the same 20 BIRD nodes in one mesh without roles (their peers in
// the topology):
//
//	go test -run '^$' -bench UpKubespray20 -benchtime 1x ./cmd/peerlab/

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// kubesprayYAML is a cluster of n BIRD nodes in one mesh: with roles,
// three masters and n-3 kubespray workers; without, plain BIRD nodes.
func kubesprayYAML(name string, n int, roles bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "name: %s\ndefaults: {asn: 64512, kind: bird, timers: {hold: 9s, keepalive: 3s, connect-retry: 1s}}\nnodes:\n", name)
	names := make([]string, n)
	for i := range n {
		names[i] = fmt.Sprintf("n%d", i+1)
		r := ""
		switch {
		case roles && i < 3:
			r = ", roles: [apiserver, calico-node]"
		case roles:
			r = ", roles: [calico-node, kubespray-worker]"
		}
		fmt.Fprintf(&b, "  %s: {address: 10.30.0.%d, prefixes: [10.244.%d.0/26]%s}\n", names[i], i+1, i+1, r)
	}
	fmt.Fprintf(&b, "peerings:\n  - mesh: [%s]\n", strings.Join(names, ", "))
	return b.String()
}

func BenchmarkUpKubespray20(b *testing.B) {
	requireRoot(b, append(birdBinaries, "nginx")...)
	const nodes, sessions = 20, 20 * 19 // session ends
	for range b.N {
		var took [2]time.Duration
		for i, roles := range []bool{true, false} {
			e := newLabEnv(b)
			name := uniqueLabName(map[bool]string{true: "bk", false: "bm"}[roles])
			e.names = append(e.names, name)
			file := filepath.Join(e.dir, name+".yaml")
			if err := os.WriteFile(file, []byte(kubesprayYAML(name, nodes, roles)), 0o644); err != nil {
				b.Fatal(err)
			}
			start := time.Now()
			e.mustRun(120*time.Second, "up", "-d", file)
			e.waitStatus(name, "every session Established", 120*time.Second, allEstablished(sessions))
			took[i] = time.Since(start)
			e.mustRun(120*time.Second, "down", name)
		}
		b.Logf("20-node kubespray cluster (3 masters, 17 workers with nginx-proxy, calico-node from the API server): every session Established %s after `up -d` began; 20 plain BIRD nodes in one mesh: %s; ratio %.2f",
			took[0].Round(time.Millisecond), took[1].Round(time.Millisecond), took[0].Seconds()/took[1].Seconds())
		b.ReportMetric(took[0].Seconds(), "s-kubespray20")
		b.ReportMetric(took[1].Seconds(), "s-birdmesh20")
		b.ReportMetric(took[0].Seconds()/took[1].Seconds(), "ratio")
	}
}
