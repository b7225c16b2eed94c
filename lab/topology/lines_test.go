package topology

import (
	"strconv"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestChildLines checks that the line the decoder gives each node is the
// line the line index finds for its path, however the file names it.
func TestChildLines(t *testing.T) {
	cases := []struct {
		name string
		src  string
	}{
		{"plain", "name: a\nnodes:\n  a: {}\n  b: {}\n"},
		{"upper-case and duplicate keys", "Nodes:\n  A: {}\n  a: {}\n  B: {}\n  b: {}\nnodes: {c: 1}\n"},
		{"a top key spelled like a path", "nodes.a: 1\nnodes:\n  a: {}\n  b: {}\n"},
		{"a top key spelled like an index", "nodes[0]: 1\nnodes:\n  a: {}\n"},
		{"a merged name read as a path", "x-m: &m {a.b: {}, \"a[0]\": {}}\nnodes:\n  <<: *m\n  a: {b: 1}\n"},
		{"keys holding dots", "nodes:\n  a.b: {}\n  a: {b: 1}\n"},
		{"merged nodes", "x-m: &m {c: {}, a: {}}\nnodes:\n  <<: *m\n  a: {}\n"},
		{"nodes an alias", "x-m: &m {a: {}}\nnodes: *m\n"},
		{"nodes merged into the top", "<<: {nodes: {a: {}}}\nname: x\n"},
		{"keys that are not plain", "nodes:\n  ? [x]\n  : 1\n  \"\": {}\n  a: {}\n"},
		{"empty key", "\"\": {nodes: 1}\nnodes:\n  a: {}\n  \"\": {}\n"},
		{"large mappings", largeNodes(40)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var doc yaml.Node
			if err := yaml.Unmarshal([]byte(tc.src), &doc); err != nil {
				t.Fatal(err)
			}
			root := doc.Content[0]
			x := newLineIndex(root)
			var nodes *yaml.Node
			for _, e := range entries(root, true) {
				if e.key == "nodes" {
					nodes = resolveAlias(e.val)
				}
			}
			if nodes == nil || nodes.Kind != yaml.MappingNode {
				t.Fatal("no nodes mapping")
			}
			line := x.childLines("nodes", nodes)
			ents := entries(nodes, false)
			if len(ents) == 0 {
				t.Fatal("no node keys")
			}
			for _, e := range ents {
				if got, want := line(e), x.line(joinKey("nodes", e.key)); got != want {
					t.Errorf("key %q: line %d, the index says %d", e.key, got, want)
				}
			}
		})
	}
}
func largeNodes(n int) string {
	src := "nodes:\n"
	for i := 1; i < n; i++ {
		src += "  n" + strconv.Itoa(i) + ": {}\n"
	}
	return src
}
