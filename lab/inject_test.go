package lab

import (
	"context"
	"fmt"
	"hash/fnv"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/peerlab/peerlab/internal/bird"
	"github.com/peerlab/peerlab/internal/netns"
	"github.com/peerlab/peerlab/lab/routes"
	"github.com/peerlab/peerlab/lab/topology"
)

// injectLab is a namespace lab of one gobgp injector ("up", a remote
// agent) and one BIRD node ("edge").
type injectLab struct {
	topo  *topology.Topology
	nodes map[string]Node
}

// startInjectLab parses yaml (%[1]s: the test's 10.A.B, %[2]s: its lab
// name), creates the namespaces and starts every node.
func startInjectLab(t *testing.T, yaml string) *injectLab {
	t.Helper()
	requireBIRD(t)
	useBuiltAgent(t)
	return startInjectLabTB(t, yaml)
}

// startInjectLabTB is startInjectLab for tests and benchmarks; the caller
// has checked for root, BIRD and the agent.
func startInjectLabTB(t testing.TB, yaml string) *injectLab {
	t.Helper()
	base, h := birdNetTB(t)
	name := fmt.Sprintf("ij%x", h)
	topo, err := topology.Parse("inject.yaml", []byte(fmt.Sprintf(yaml, base, name)))
	if err != nil {
		t.Fatalf("topology: %v", err)
	}
	spec := netns.LabSpec{Name: name}
	for _, n := range topo.Nodes {
		spec.Nodes = append(spec.Nodes, netns.NodeSpec{Name: n.Name, Addresses: []netip.Prefix{netip.PrefixFrom(n.Address, 24)}})
	}
	log := zap.NewNop()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	netLab, err := netns.Create(ctx, spec, log)
	if err != nil {
		t.Fatalf("create namespaces: %v", err)
	}
	t.Cleanup(func() {
		if err := netLab.Destroy(); err != nil {
			t.Errorf("destroy namespaces: %v", err)
		}
	})
	l := &injectLab{topo: topo, nodes: map[string]Node{}}
	reg := NewDefaultRegistry()
	dir := t.TempDir()
	for _, n := range topo.Nodes {
		kind, ok := reg.Lookup(n.Kind)
		if !ok {
			t.Fatalf("kind %s not registered", n.Kind)
		}
		nodeDir := filepath.Join(dir, n.Name)
		if err := os.MkdirAll(nodeDir, 0o755); err != nil {
			t.Fatal(err)
		}
		node, err := kind.New(NodeSpec{
			Node: n, Topology: topo, Sessions: sessionsOf(topo, n.Name),
			Bind:   func(node string) netip.Addr { return topo.Node(node).Address },
			Port:   179,
			Logger: log.Named(n.Name), Namespace: nsNamespace{lab: netLab, node: n.Name}, Dir: nodeDir,
		})
		if err != nil {
			t.Fatalf("new %s: %v", n.Name, err)
		}
		t.Cleanup(func() { _ = node.Stop() })
		l.nodes[n.Name] = node
	}
	if err := forEachNode(netLab.Nodes(), func(name string) error { return l.nodes[name].Start(ctx) }); err != nil {
		t.Fatalf("start: %v", err)
	}
	return l
}

// birdCount is the number of routes BIRD node holds inside within.
func (l *injectLab) birdCount(ctx context.Context, node string, within netip.Prefix) (int, error) {
	c, err := l.nodes[node].(BIRDNode).Client(ctx)
	if err != nil {
		return 0, err
	}
	lines, err := c.Cmd(ctx, fmt.Sprintf("show route where net ~ [ %s+ ] count", within))
	if err != nil {
		return 0, err
	}
	return parseShownCount(bird.Text(lines))
}

// shownCountRE matches BIRD 1.6's "N of M routes for K networks" and
// BIRD 2's per-table form.
var shownCountRE = regexp.MustCompile(`(?m)(\d+) of \d+ routes`)

// parseShownCount returns the N of the first "N of M routes". (It does not
// use bird.ParseRouteCount: that strips a leading four-digit N as if it
// were a reply code, so "2000 of 2001 routes" reads as no count.)
func parseShownCount(text string) (int, error) {
	m := shownCountRE.FindStringSubmatch(text)
	if m == nil {
		return 0, fmt.Errorf("no route count in %q", text)
	}
	return strconv.Atoi(m[1])
}

// waitCount waits until BIRD node holds exactly want routes inside within.
func (l *injectLab) waitCount(t *testing.T, node string, within netip.Prefix, want int) {
	t.Helper()
	birdWait(t, 60*time.Second, fmt.Sprintf("%d routes in %s at %s", want, within, node), func(ctx context.Context) (bool, string) {
		n, err := l.birdCount(ctx, node, within)
		return err == nil && n == want, fmt.Sprintf("count %d, err %v", n, err)
	})
}

// routeAll is BIRD's `show route PREFIX all` at node.
func (l *injectLab) routeAll(t *testing.T, node string, p netip.Prefix) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := l.nodes[node].(BIRDNode).Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := c.Cmd(ctx, "show route "+p.String()+" all")
	if err != nil {
		t.Fatal(err)
	}
	return bird.Text(lines)
}

// withdrawAll withdraws prefixes through the injector's agent.
func (l *injectLab) withdrawAll(t *testing.T, node string, prefixes []netip.Prefix) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if ri, ok := l.nodes[node].(RouteInjector); ok {
		if err := ri.Withdraw(ctx, prefixes); err != nil {
			t.Fatalf("withdraw %d prefixes: %v", len(prefixes), err)
		}
		return
	}
	c := l.nodes[node].(*remoteGoBGPNode).Client()
	if c == nil {
		t.Fatalf("%s has no agent client", node)
	}
	if err := c.Withdraw(ctx, prefixes); err != nil {
		t.Fatalf("withdraw %d prefixes: %v", len(prefixes), err)
	}
}

// injectorKinds are the node kinds that take `routes:`; the injection
// tests run once with each.
var injectorKinds = []string{topology.KindGoBGP, topology.KindInjector}

// TestInjectGeneratedIntoBIRD announces 10,000 generated prefixes with
// eight attribute sets from a namespace-mode gobgp node, then from an
// injector node, into BIRD 1.6, checks BIRD holds all of them with the
// expected attributes, then withdraws all of them and checks BIRD's table
// is empty again.
func TestInjectGeneratedIntoBIRD(t *testing.T) {
	for _, kind := range injectorKinds {
		t.Run(kind, func(t *testing.T) { testInjectGeneratedIntoBIRD(t, kind) })
	}
}

func testInjectGeneratedIntoBIRD(t *testing.T, kind string) {
	const n = 10000
	l := startInjectLab(t, `
name: %[2]s
nodes:
  up:
    kind: `+kind+`
    address: %[1]s.1
    asn: 65001
    routes: {generate: 10000, from: 16.0.0.0/8, length: 24, variety: 8}
  edge: {address: %[1]s.2, asn: 65002, kind: bird}
peerings:
  - between: [up, edge]
`)
	within := netip.MustParsePrefix("16.0.0.0/8")
	l.waitCount(t, "edge", within, n)
	gen, err := routes.Generate(routes.Generator{Count: n, From: within, Length: 24, Variety: 8})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		index int
		want  []string
	}{
		{0, []string{"BGP.as_path: 65001\n", "BGP.next_hop: " + l.topo.Node("up").Address.String()}},
		{5, []string{"BGP.as_path: 65001 64517 64518", "BGP.med: 50", "BGP.community: (65000,5)"}},
		{9999, []string{"BGP.as_path: 65001 64519 64520 64521 64522", "BGP.med: 70", "BGP.community: (65000,7)"}},
	}
	for _, tt := range tests {
		t.Run(gen[tt.index].Prefix.String(), func(t *testing.T) {
			out := l.routeAll(t, "edge", gen[tt.index].Prefix)
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("show route %s all lacks %q:\n%s", gen[tt.index].Prefix, w, out)
				}
			}
		})
	}
	prefixes := make([]netip.Prefix, len(gen))
	for i, r := range gen {
		prefixes[i] = r.Prefix
	}
	l.withdrawAll(t, "up", prefixes)
	l.waitCount(t, "edge", within, 0)
}

// TestInjectMRTIntoBIRD writes a small TABLE_DUMP_V2 file, has a gobgp
// node, then an injector node, replay it into BIRD 1.6 with the dump's AS
// paths, communities and MEDs, then withdraws every prefix.
func TestInjectMRTIntoBIRD(t *testing.T) {
	for _, kind := range injectorKinds {
		t.Run(kind, func(t *testing.T) { testInjectMRTIntoBIRD(t, kind) })
	}
}

func testInjectMRTIntoBIRD(t *testing.T, kind string) {
	const n = 2000
	within := netip.MustParsePrefix("100.64.0.0/10")
	table, err := routes.Generate(routes.Generator{Count: n, From: within, Length: 24, Variety: 5, NextHop: netip.MustParseAddr("192.0.2.7")})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "table.mrt")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	peer := routes.MRTPeer{RouterID: netip.MustParseAddr("192.0.2.7"), Address: netip.MustParseAddr("192.0.2.7"), ASN: 65100}
	if err := routes.WriteMRT(f, table, peer); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	l := startInjectLab(t, `
name: %[2]s
nodes:
  up:
    kind: `+kind+`
    address: %[1]s.1
    asn: 65001
    routes: [{mrt: `+file+`}]
  edge: {address: %[1]s.2, asn: 65002, kind: bird}
peerings:
  - between: [up, edge]
`)
	l.waitCount(t, "edge", within, n)
	upAddr := l.topo.Node("up").Address.String()
	tests := []struct {
		index int
		want  []string
	}{
		{0, []string{"BGP.as_path: 65001 65100\n", "BGP.next_hop: " + upAddr}},
		{3, []string{"BGP.as_path: 65001 65100 64515", "BGP.med: 30", "BGP.community: (65000,3)", "BGP.next_hop: " + upAddr}},
		{n - 1, []string{"BGP.as_path: 65001 65100 64516\n", "BGP.med: 40", "BGP.community: (65000,4)"}},
	}
	for _, tt := range tests {
		t.Run(table[tt.index].Prefix.String(), func(t *testing.T) {
			out := l.routeAll(t, "edge", table[tt.index].Prefix)
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("show route %s all lacks %q:\n%s", table[tt.index].Prefix, w, out)
				}
			}
		})
	}
	prefixes := make([]netip.Prefix, len(table))
	for i, r := range table {
		prefixes[i] = r.Prefix
	}
	l.withdrawAll(t, "up", prefixes)
	l.waitCount(t, "edge", within, 0)
}

// birdNetTB is birdNet for tests and benchmarks.
func birdNetTB(t testing.TB) (base string, h uint32) {
	f := fnv.New32a()
	f.Write([]byte(t.Name() + "/" + strconv.Itoa(os.Getpid())))
	h = f.Sum32()
	return fmt.Sprintf("10.%d.%d", 100+h%100, (h>>8)%250+1), h
}

// TestInjectorLiveBatchesIntoBIRD announces 20,000 /24s into an
// Established session with BIRD 1.6 in four live batches, checks BIRD
// holds all of them and that the batches left packed (at least 500
// prefixes per UPDATE), then withdraws them in one call.
func TestInjectorLiveBatchesIntoBIRD(t *testing.T) {
	const n, batch = 20000, 5000
	l := startInjectLab(t, `
name: %[2]s
nodes:
  up: {address: %[1]s.1, asn: 65001, kind: injector}
  edge: {address: %[1]s.2, asn: 65002, kind: bird}
peerings:
  - between: [up, edge]
`)
	up := l.nodes["up"].(*injectorNode)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := up.Injector().WaitSynced(ctx); err != nil {
		t.Fatal(err)
	}
	within := netip.MustParsePrefix("16.0.0.0/8")
	table, err := routes.Generate(routes.Generator{Count: n, From: within, Length: 24})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i += batch {
		if err := up.Announce(ctx, table[i:i+batch]); err != nil {
			t.Fatalf("announce batch %d: %v", i/batch, err)
		}
	}
	l.waitCount(t, "edge", within, n)
	st := up.Injector().Stats()[0]
	if st.PrefixesSent != n {
		t.Errorf("sent %d prefixes, want %d", st.PrefixesSent, n)
	}
	if per := float64(st.PrefixesSent) / float64(st.UpdatesSent); per < 500 {
		t.Errorf("live batches left at %.0f prefixes per UPDATE (%d UPDATEs), want at least 500", per, st.UpdatesSent)
	}
	prefixes := make([]netip.Prefix, n)
	for i, r := range table {
		prefixes[i] = r.Prefix
	}
	l.withdrawAll(t, "up", prefixes)
	l.waitCount(t, "edge", within, 0)
}
