package topology

import (
	"fmt"

	"go.yaml.in/yaml/v3"
)

// maxNesting is how deep flow collections (`[…]`, `{…}`) may nest. No
// topology needs more than a few levels (the deepest the format has is
// about 6, a shipped file uses 4).
//
// The limit is checked on the parsed tree, where it is exact: a byte scan
// before parsing cannot tell a bracket that opens a collection from one
// inside a plain or block scalar without being a YAML scanner, and so
// either refuses valid files or lets deep ones through. Nor does it need
// to run first: yaml.v3's time for a file of a given size hardly depends
// on the depth (1.2 MB of `[[…]]` nested 32, 64 or 5,000 deep takes about
// what a flat `[a, a, …]` list does), and it refuses nesting past 10,000
// itself.
const maxNesting = 64

// Limits on the parsed tree. Block nesting costs the parser nothing, but
// every value's path is spelled out in messages: these keep a path short
// however the file is shaped. No topology comes near them.
const (
	// maxDepth is how deep collections may nest, block and flow together
	// (the document's mapping is level 1).
	maxDepth = 2 * maxNesting
	// maxKeyBytes is the longest mapping key. YAML's own limit for a key
	// written without `? ` is 1024 characters.
	maxKeyBytes = 1024
)

// checkTree walks the parsed document, not following aliases, and returns
// how many nodes it has, or an *Error (without the file) for a flow
// collection nested deeper than maxNesting, a collection nested deeper
// than maxDepth, or a key longer than maxKeyBytes. The first problem in
// file order is reported.
func checkTree(root *yaml.Node) (int, error) {
	count := 0
	var walk func(n *yaml.Node, depth, flow int) error
	walk = func(n *yaml.Node, depth, flow int) error {
		count++
		if n.Kind != yaml.MappingNode && n.Kind != yaml.SequenceNode {
			return nil
		}
		if n.Style&yaml.FlowStyle != 0 {
			// A flow collection holds only flow collections.
			flow++
		}
		if flow > maxNesting {
			return &Error{Line: n.Line, Msg: fmt.Sprintf("values are nested more than %d levels deep", maxNesting)}
		}
		if depth > maxDepth {
			return &Error{Line: n.Line, Msg: fmt.Sprintf("values are nested more than %d levels deep", maxDepth)}
		}
		for i, c := range n.Content {
			if n.Kind == yaml.MappingNode && i%2 == 0 && len(c.Value) > maxKeyBytes {
				return &Error{Line: c.Line, Msg: fmt.Sprintf("a key is %d bytes long, the limit is %d", len(c.Value), maxKeyBytes)}
			}
			if err := walk(c, depth+1, flow); err != nil {
				return err
			}
		}
		return nil
	}
	err := walk(root, 1, 0)
	return count, err
}
