package netns

import (
	"context"
	"os/exec"
	"testing"
	"time"
)

// benchNodes is the size of the benchmarked lab.
const benchNodes = 100

// BenchmarkCreateDestroy100 builds a 100-node lab (namespaces, veths to the
// hub bridge, one address each) and removes it, reporting the seconds each
// half took as s-up and s-down.
func BenchmarkCreateDestroy100(b *testing.B) {
	requireRoot(b)
	name := labName(b)
	spec := starSpec(name, benchNodes, 200)
	var up, down time.Duration
	for b.Loop() {
		start := time.Now()
		lab, err := Create(context.Background(), spec, nil)
		if err != nil {
			b.Fatal(err)
		}
		mid := time.Now()
		if err := lab.Destroy(); err != nil {
			b.Fatal(err)
		}
		up, down = up+mid.Sub(start), down+time.Since(mid)
	}
	b.ReportMetric(up.Seconds()/float64(b.N), "s-up")
	b.ReportMetric(down.Seconds()/float64(b.N), "s-down")
}

// BenchmarkCreateDestroy100IPCommands does what BenchmarkCreateDestroy100
// does the way a shell script would: one ip(8) command per step.
func BenchmarkCreateDestroy100IPCommands(b *testing.B) {
	requireRoot(b)
	if _, err := exec.LookPath("ip"); err != nil {
		b.Skip("ip(8) not installed")
	}
	name := labName(b)
	spec := starSpec(name, benchNodes, 201)
	hub := HubNamespace(name)
	ip := func(args ...string) {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			b.Fatalf("ip %v: %v: %s", args, err, out)
		}
	}
	var up, down time.Duration
	for b.Loop() {
		start := time.Now()
		ip("netns", "add", hub)
		ip("-n", hub, "link", "add", BridgeName, "type", "bridge")
		ip("-n", hub, "link", "set", BridgeName, "up")
		for _, n := range spec.Nodes {
			ns, hubIf := NodeNamespace(name, n.Name), hubIfName(name, n.Name)
			ip("netns", "add", ns)
			ip("-n", ns, "link", "set", "lo", "up")
			ip("-n", hub, "link", "add", hubIf, "type", "veth", "peer", "name", NodeIfName, "netns", ns)
			ip("-n", hub, "link", "set", hubIf, "master", BridgeName, "up")
			ip("-n", ns, "link", "set", NodeIfName, "up")
			ip("-n", ns, "addr", "add", n.Addresses[0].String(), "dev", NodeIfName)
		}
		mid := time.Now()
		ip("netns", "del", hub)
		for _, n := range spec.Nodes {
			ip("netns", "del", NodeNamespace(name, n.Name))
		}
		up, down = up+mid.Sub(start), down+time.Since(mid)
	}
	b.ReportMetric(up.Seconds()/float64(b.N), "s-up")
	b.ReportMetric(down.Seconds()/float64(b.N), "s-down")
}

// BenchmarkCreateDestroy1000 is BenchmarkCreateDestroy100 with 1,000
// nodes on one bridge, each with a static neighbour entry for node 0 and
// node 0 with one for each of them, the shape of a 1,000-node route
// reflector star: it shows what grows faster than the node count.
func BenchmarkCreateDestroy1000(b *testing.B) {
	requireRoot(b)
	name := labName(b)
	spec := starSpec(name, 1000, 202)
	spec.Neighbors = NeighborsStatic
	for i := 1; i < len(spec.Nodes); i++ {
		spec.Nodes[0].Peers = append(spec.Nodes[0].Peers, spec.Nodes[i].Name)
		spec.Nodes[i].Peers = []string{spec.Nodes[0].Name}
	}
	var up, down time.Duration
	for b.Loop() {
		start := time.Now()
		lab, err := Create(context.Background(), spec, nil)
		if err != nil {
			b.Fatal(err)
		}
		mid := time.Now()
		if err := lab.Destroy(); err != nil {
			b.Fatal(err)
		}
		up, down = up+mid.Sub(start), down+time.Since(mid)
	}
	b.ReportMetric(up.Seconds()/float64(b.N), "s-up")
	b.ReportMetric(down.Seconds()/float64(b.N), "s-down")
}
