package topology

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// largeShape is one benchmark input: a topology of a given shape grown to
// about the asked size.
type largeShape struct {
	name string
	data []byte
	// valid is false for a shape that is meant to be refused.
	valid bool
}

// largeShapes builds topologies of about size bytes in every shape a file
// can take: many nodes, many links, many peerings and expectations, a long
// list of faults, anchors merged into every node, a huge `x-` extension
// map, a long list, flow collections nested to the limit, a flat flow list
// of one-letter values, a file whose every node has an error, and one
// whose errors all have long paths.
func largeShapes(size int) []largeShape {
	var shapes []largeShape
	var b bytes.Buffer
	add := func(name string, valid bool) {
		shapes = append(shapes, largeShape{name, bytes.Clone(b.Bytes()), valid})
		b.Reset()
	}
	node := func(i int) string { return fmt.Sprintf("n%d", i) }
	addr := func(i int) string { return fmt.Sprintf("10.%d.%d.%d", (i>>16)&255, (i>>8)&255, i&255+0) }

	b.WriteString("name: big\nnodes:\n")
	for i := 1; b.Len() < size; i++ {
		fmt.Fprintf(&b, "  %s:\n    kind: gobgp\n    asn: 65001\n    address: %s\n", node(i), addr(i))
	}
	add("nodes", true)

	// Links between neighbours, each on its own /30 out of 172.16.0.0/12.
	const linkNodes = 1000
	b.WriteString("name: big\nnodes:\n")
	for i := 1; i <= linkNodes; i++ {
		fmt.Fprintf(&b, "  %s: {address: %s}\n", node(i), addr(i))
	}
	b.WriteString("links:\n")
	for i := 0; b.Len() < size; i++ {
		sub := 172<<24 | 16<<16 | i*4
		fmt.Fprintf(&b, "  - between: [%s, %s]\n    addresses: {%s: %d.%d.%d.%d/30, %s: %d.%d.%d.%d/30}\n",
			node(i%linkNodes+1), node((i+1)%linkNodes+1),
			node(i%linkNodes+1), sub>>24, (sub>>16)&255, (sub>>8)&255, sub&255+1,
			node((i+1)%linkNodes+1), sub>>24, (sub>>16)&255, (sub>>8)&255, sub&255+2)
	}
	add("links", true)

	// Pairs of nodes, one peering and one expectation each.
	var expect strings.Builder
	b.WriteString("name: big\nnodes:\n")
	var peerings strings.Builder
	for i := 1; b.Len()+peerings.Len()+expect.Len() < size; i += 2 {
		fmt.Fprintf(&b, "  %s: {address: %s}\n  %s: {address: %s}\n", node(i), addr(i), node(i+1), addr(i+1))
		fmt.Fprintf(&peerings, "  - between: [%s, %s]\n", node(i), node(i+1))
		fmt.Fprintf(&expect, "  - established: [%s, %s]\n    within: 30s\n", node(i), node(i+1))
	}
	b.WriteString("peerings:\n" + peerings.String() + "expect:\n" + expect.String())
	add("expectations", true)

	// Faults one after the other on a few nodes.
	const faultNodes = 100
	b.WriteString("name: big\nnodes:\n")
	for i := 1; i <= faultNodes; i++ {
		fmt.Fprintf(&b, "  %s: {address: %s}\n", node(i), addr(i))
	}
	b.WriteString("faults:\n")
	for i := 0; b.Len() < size; i++ {
		at := i / faultNodes * 10
		fmt.Fprintf(&b, "  - {at: %ds, heal-at: %ds, fault: netem, node: %s, params: {delay: 10ms}}\n", at, at+5, node(i%faultNodes+1))
	}
	add("faults", true)

	b.WriteString("name: big\nx-node: &node\n  kind: gobgp\n  asn: 65001\n  timers: {hold: 30s, keepalive: 10s}\nnodes:\n")
	for i := 1; b.Len() < size; i++ {
		fmt.Fprintf(&b, "  %s: {<<: *node, address: %s}\n", node(i), addr(i))
	}
	add("anchors", true)

	b.WriteString("name: big\nx-junk:\n")
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "  k%d: v\n", i)
	}
	b.WriteString("nodes:\n  a: {kind: gobgp, asn: 65001, address: 10.0.0.1}\n")
	add("x-keys", true)

	b.WriteString("name: big\nx-list:\n")
	for b.Len() < size {
		b.WriteString("  - 10.0.0.0/24\n")
	}
	b.WriteString("nodes:\n  a: {kind: gobgp, asn: 65001, address: 10.0.0.1}\n")
	add("list", true)

	// yaml.v3 refuses nesting deeper than 10,000, so deep documents are
	// many sibling trees nested to the limit (deeper is refused).
	b.WriteString("name: big\nx-deep:\n")
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "  d%d: %s%s\n", i, strings.Repeat("[", maxNesting), strings.Repeat("]", maxNesting))
	}
	b.WriteString("nodes:\n  a: {kind: gobgp, asn: 65001, address: 10.0.0.1}\n")
	add("deep", true)

	// The densest flow shape: a value every two bytes, one level deep.
	// It costs yaml.v3 as much as the deep shape: its time follows the
	// number of values, not their depth.
	b.WriteString("name: big\nx-flow:\n")
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "  f%d: [%sa]\n", i, strings.Repeat("a,", 60))
	}
	b.WriteString("nodes:\n  a: {kind: gobgp, asn: 65001, address: 10.0.0.1}\n")
	add("flow", true)

	b.WriteString("name: big\nnodes:\n")
	for i := 1; b.Len() < size; i++ {
		fmt.Fprintf(&b, "  %s: {kind: gobgp, asn: 65001, address: %s, bogus: 1}\n", node(i), addr(i))
	}
	add("errors", false)

	// Keys near the length limit nested near the depth limit, then a
	// problem in every item of a long list below them: each message's
	// path is long, and only an excerpt of it may be spelled out.
	b.WriteString("name: big\nnodes:\n  a: {kind: gobgp, asn: 65001, address: 10.0.0.1}\n")
	depth := min(maxDepth-4, size/2000)
	for i := range depth {
		fmt.Fprintf(&b, "%s%s%d:\n", strings.Repeat(" ", i), strings.Repeat("k", maxKeyBytes-8), i)
	}
	fmt.Fprintf(&b, "%s[", strings.Repeat(" ", depth))
	for b.Len() < size {
		b.WriteString("{K: 1}, ")
	}
	b.WriteString("{K: 1}]\n")
	add("long-paths", false)
	return shapes
}

// BenchmarkParseLarge measures Parse on 300 KB and 1.2 MB files of every
// shape next to its peer in the same run: yaml.v3 parsing the same bytes
// into a node tree, the floor Parse cannot go below. The ratio of the two
// is the figure to read; both grow linearly with the size.
func BenchmarkParseLarge(b *testing.B) {
	for _, size := range []int{300_000, 1_200_000} {
		for _, shape := range largeShapes(size) {
			b.Run(fmt.Sprintf("%s/%dKB/peerlab", shape.name, size/1000), func(b *testing.B) {
				b.SetBytes(int64(len(shape.data)))
				for b.Loop() {
					if _, err := Parse("big.yaml", shape.data); (err == nil) != shape.valid {
						b.Fatalf("valid %t, got error: %.2000v", shape.valid, err)
					}
				}
			})
			b.Run(fmt.Sprintf("%s/%dKB/yaml-floor", shape.name, size/1000), func(b *testing.B) {
				b.SetBytes(int64(len(shape.data)))
				for b.Loop() {
					var n yaml.Node
					if err := yaml.Unmarshal(shape.data, &n); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// TestLargeShapes checks that every benchmark shape is what it claims:
// at most 1.2 MB, accepted when valid and refused with errors otherwise.
func TestLargeShapes(t *testing.T) {
	for _, shape := range largeShapes(100_000) {
		t.Run(shape.name, func(t *testing.T) {
			if len(shape.data) > 100_000+1000 {
				t.Fatalf("%d bytes, want about 100 KB", len(shape.data))
			}
			_, err := Parse("big.yaml", shape.data)
			if (err == nil) != shape.valid {
				t.Fatalf("valid %t, got error: %.3000v", shape.valid, err)
			}
		})
	}
}
