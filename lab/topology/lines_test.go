package topology

import (
	"strconv"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestChildLines checks that the one-lookup line of a node's key is the
// line the line index finds for its path, however the file names it.
func TestChildLines(t *testing.T) {
	cases := []struct {
		name string
		src  string
		keys []string
	}{
		{"plain", "name: a\nnodes:\n  a: {}\n  b: {}\n", []string{"a", "b", "c"}},
		{"upper-case and duplicate keys", "Nodes:\n  A: {}\n  a: {}\n  b: {}\nnodes: {c: 1}\n", []string{"a", "b", "c"}},
		{"a top key spelled like a path", "nodes.a: 1\nnodes:\n  a: {}\n  b: {}\n", []string{"a", "b"}},
		{"a top key spelled like an index", "nodes[0]: 1\nnodes:\n  a: {}\n", []string{"a", "[0]"}},
		{"a name read as a path", "nodes:\n  a: {b: 1, c: [1]}\n", []string{"a.b", "a.c[0]", "a"}},
		{"keys holding dots", "nodes:\n  a.b: {}\n  a: {b: 1}\n", []string{"a.b", "a", "b"}},
		{"merged nodes", "x-m: &m {c: {}}\nnodes:\n  <<: *m\n  a: {}\n", []string{"a", "c"}},
		{"nodes an alias", "x-m: &m {a: {}}\nnodes: *m\n", []string{"a"}},
		{"nodes merged into the top", "<<: {nodes: {a: {}}}\nname: x\n", []string{"a"}},
		{"nodes a list", "nodes:\n  - a\n", []string{"a", "[0]"}},
		{"empty key", "\"\": {nodes: 1}\nnodes:\n  a: {}\n", []string{"a", ""}},
		{"large mappings", largeNodes(40), []string{"n1", "n39", "n40", "x"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var doc yaml.Node
			if err := yaml.Unmarshal([]byte(tc.src), &doc); err != nil {
				t.Fatal(err)
			}
			x := newLineIndex(doc.Content[0])
			line := x.childLines("nodes")
			for _, k := range tc.keys {
				if got, want := line(k), x.line(joinKey("nodes", k)); got != want {
					t.Errorf("key %q: line %d, the index says %d", k, got, want)
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
