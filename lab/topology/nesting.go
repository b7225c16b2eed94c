package topology

import (
	"fmt"

	"go.yaml.in/yaml/v3"
)

// maxNesting is how deep flow collections (`[…]`, `{…}`) may nest. A
// topology needs a few levels; the YAML parser's time per byte grows with
// the depth, so deeper files are refused before parsing.
const maxNesting = 64

// tooDeep scans data once for flow collections nested deeper than
// maxNesting, outside quoted strings and comments, and returns the line
// where the limit is passed. Brackets inside plain scalars count too, which
// can only make it refuse a file holding more than maxNesting unbalanced
// brackets in its values.
func tooDeep(data []byte) (line int, deep bool) {
	line = 1
	depth := 0
	var quote byte // '"' or '\'' while inside a quoted string
	comment := false
	prev := byte('\n')
	for i := 0; i < len(data); i++ {
		ch := data[i]
		if ch == '\n' {
			line++
			comment = false
			prev = ch
			continue
		}
		switch {
		case comment:
		case quote == '"':
			if ch == '\\' {
				i++ // skip the escaped character
			} else if ch == '"' {
				quote = 0
			}
		case quote == '\'':
			if ch == '\'' {
				quote = 0 // '' re-enters at once on the next quote
			}
		case ch == '#' && (prev == ' ' || prev == '\t' || prev == '\n'):
			comment = true
		case ch == '"' || ch == '\'':
			quote = ch
		case ch == '[' || ch == '{':
			depth++
			if depth > maxNesting {
				return line, true
			}
		case ch == ']' || ch == '}':
			if depth > 0 {
				depth--
			}
		}
		prev = ch
	}
	return 0, false
}

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
// how many nodes it has, or an *Error (without the file) for a collection
// nested deeper than maxDepth or a key longer than maxKeyBytes.
func checkTree(root *yaml.Node) (int, error) {
	count := 0
	var walk func(n *yaml.Node, depth int) error
	walk = func(n *yaml.Node, depth int) error {
		count++
		if n.Kind != yaml.MappingNode && n.Kind != yaml.SequenceNode {
			return nil
		}
		if depth > maxDepth {
			return &Error{Line: n.Line, Msg: fmt.Sprintf("values are nested more than %d levels deep", maxDepth)}
		}
		for i, c := range n.Content {
			if n.Kind == yaml.MappingNode && i%2 == 0 && len(c.Value) > maxKeyBytes {
				return &Error{Line: c.Line, Msg: fmt.Sprintf("a key is %d bytes long, the limit is %d", len(c.Value), maxKeyBytes)}
			}
			if err := walk(c, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	err := walk(root, 1)
	return count, err
}
