package topology

import (
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/peerlab/peerlab/internal/lazy"
)

// nodeNameRE is what a node name must look like: it becomes part of
// namespace, interface and log names, so it stays short and plain.
var nodeNameRE = lazy.Regexp(`^[a-z][a-z0-9-]{0,31}$`)

// lineIndex maps field paths (`nodes.worker1.asn`, `peerings[2].between[1]`)
// to the 1-based line where they appear in the source.
type lineIndex struct {
	lines map[string]int
}

// line returns the line of path, or of its nearest ancestor that appears in
// the file (a missing field is reported where its parent is), or 0.
func (x *lineIndex) line(path string) int {
	if x == nil {
		return 0
	}
	for path != "" {
		if l, ok := x.lines[path]; ok {
			return l
		}
		path = parentPath(path)
	}
	return 0
}

// parentPath strips the last `.key` or `[i]` segment of path.
func parentPath(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

// joinKey appends a mapping key to path.
func joinKey(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// joinIndex appends a sequence index to path.
func joinIndex(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

// issue is a problem spotted while walking the YAML tree.
type issue struct {
	line int
	path string // as spelled in the file
	msg  string
	at   string // lower-cased path, as the decoder will name it
}

// indexer walks a yaml.Node tree, recording the line of every path and the
// problems viper would hide by lower-casing keys: upper-case keys, keys that
// differ only in case, duplicate keys and badly spelled node names.
type indexer struct {
	idx    *lineIndex
	issues []issue
}

// indexTree builds the line index of the mapping root and returns the
// problems found on the way.
func indexTree(root *yaml.Node) (*lineIndex, []issue) {
	in := &indexer{idx: &lineIndex{lines: map[string]int{}}}
	in.walk(root, "")
	return in.idx, in.issues
}

func (in *indexer) walk(n *yaml.Node, path string) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			in.walk(c, path)
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			child := joinIndex(path, i)
			in.idx.lines[child] = item.Line
			in.walk(item, child)
		}
	case yaml.MappingNode:
		in.walkMapping(n, path)
	}
	// Scalars carry no paths; aliases are not followed (their target is
	// indexed where it is defined, and following them could explode).
}

func (in *indexer) walkMapping(n *yaml.Node, path string) {
	first := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			in.issues = append(in.issues, issue{k.Line, path, "keys must be plain strings", path})
			continue
		}
		if k.Tag == "!!merge" {
			continue
		}
		lower := strings.ToLower(k.Value)
		child := joinKey(path, lower)
		if prev, dup := first[lower]; dup {
			msg := fmt.Sprintf("duplicate key %q (first at line %d)", k.Value, prev.Line)
			if prev.Value != k.Value {
				msg = fmt.Sprintf("key %q clashes with %q at line %d (keys are case-insensitive)", k.Value, prev.Value, prev.Line)
			}
			in.issues = append(in.issues, issue{k.Line, child, msg, child})
			continue
		}
		first[lower] = k
		in.idx.lines[child] = k.Line
		if path == "" && isExtension(lower) {
			continue
		}
		switch {
		case path == "nodes":
			if !nodeNameRE().MatchString(k.Value) {
				in.issues = append(in.issues, issue{k.Line, joinKey(path, k.Value), fmt.Sprintf(
					"node name %q is invalid: use 1 to 32 lower-case letters, digits and '-', starting with a letter", k.Value), child})
			}
		case k.Value != lower:
			in.issues = append(in.issues, issue{k.Line, joinKey(path, k.Value), fmt.Sprintf("key %q must be lower-case", k.Value), child})
		}
		in.walk(v, child)
	}
}
