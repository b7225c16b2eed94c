package topology

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// largeShapes builds topologies of about size bytes in the shapes that
// used to be slow: many keys under an `x-` extension key, many nodes, a
// long list, deep nesting.
func largeShapes(size int) map[string][]byte {
	shapes := map[string][]byte{}
	var b bytes.Buffer

	b.WriteString("name: big\nx-junk:\n")
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "  k%d: v\n", i)
	}
	b.WriteString("nodes:\n  a: {kind: gobgp, asn: 65001, address: 10.0.0.1}\n")
	shapes["x-keys"] = bytes.Clone(b.Bytes())

	b.Reset()
	b.WriteString("name: big\nnodes:\n")
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "  n%d:\n    kind: gobgp\n    asn: 65001\n    address: 10.%d.%d.%d\n", i, i>>16, (i>>8)&255, i&255)
	}
	shapes["nodes"] = bytes.Clone(b.Bytes())

	b.Reset()
	b.WriteString("name: big\nx-list:\n")
	for b.Len() < size {
		b.WriteString("  - 10.0.0.0/24\n")
	}
	b.WriteString("nodes:\n  a: {kind: gobgp, asn: 65001, address: 10.0.0.1}\n")
	shapes["list"] = bytes.Clone(b.Bytes())

	b.Reset()
	// yaml.v3 refuses nesting deeper than 10,000, so deep documents are
	// many sibling trees 50 levels deep (deeper is refused, see maxNesting).
	b.WriteString("name: big\nx-deep:\n")
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "  d%d: %s%s\n", i, strings.Repeat("[", 50), strings.Repeat("]", 50))
	}
	b.WriteString("nodes:\n  a: {kind: gobgp, asn: 65001, address: 10.0.0.1}\n")
	shapes["deep"] = bytes.Clone(b.Bytes())
	return shapes
}

// BenchmarkParseLarge measures Parse on 1.2 MB files of several shapes
// next to its peer in the same run: yaml.v3 parsing the same bytes into a
// node tree, the floor Parse cannot go below. The ratio of the two is the
// figure to read; both grow linearly with the size.
func BenchmarkParseLarge(b *testing.B) {
	for _, size := range []int{300_000, 1_200_000} {
		for name, data := range largeShapes(size) {
			b.Run(fmt.Sprintf("%s/%dKB/peerlab", name, size/1000), func(b *testing.B) {
				b.SetBytes(int64(len(data)))
				for b.Loop() {
					if _, err := Parse("big.yaml", data); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(fmt.Sprintf("%s/%dKB/yaml-floor", name, size/1000), func(b *testing.B) {
				b.SetBytes(int64(len(data)))
				for b.Loop() {
					var n yaml.Node
					if err := yaml.Unmarshal(data, &n); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
