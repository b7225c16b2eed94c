package topology

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// expansionSlack is how many values alias expansion may add beyond twice
// the number of nodes in the file. A legitimate topology builds about as
// many values as it has nodes (anchors are reused a few times); a "billion
// laughs" file of nested aliases would build exponentially many and is
// refused instead.
const expansionSlack = 100_000

// settings turns the parsed document (a mapping, see parseTree) into the
// plain values the raw decoder takes: mappings become map[string]any with
// lower-cased keys, sequences []any, scalars the Go value YAML resolves
// them to. Top-level `x-` extension keys are left out (their anchors still
// serve aliases elsewhere), merge keys (`<<`) are applied with explicit keys
// winning, and aliases are expanded within a budget (expansionSlack). Its errors are
// *Error with the line (the caller sets the file). It walks the tree
// once, so its time is linear in the size of the file.
func settings(root *yaml.Node) (map[string]any, error) {
	s := settingsBuilder{active: map[*yaml.Node]bool{}, limit: 2*countNodes(root) + expansionSlack}
	out, err := s.mapping(root, true)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// settingsBuilder holds the expansion count and the aliases being expanded
// (to refuse an alias that contains itself).
type settingsBuilder struct {
	built, limit int
	active       map[*yaml.Node]bool
}

// countNodes counts the nodes of the tree, not following aliases.
func countNodes(n *yaml.Node) int {
	count := 1
	for _, c := range n.Content {
		count += countNodes(c)
	}
	return count
}

func (s *settingsBuilder) value(n *yaml.Node) (any, error) {
	s.built++
	if s.built > s.limit {
		return nil, &Error{Line: n.Line, Msg: fmt.Sprintf("the file expands to more than %d values through aliases", s.limit)}
	}
	switch n.Kind {
	case yaml.AliasNode:
		if s.active[n.Alias] {
			return nil, &Error{Line: n.Line, Msg: fmt.Sprintf("alias *%s refers to itself", n.Value)}
		}
		s.active[n.Alias] = true
		defer delete(s.active, n.Alias)
		return s.value(n.Alias)
	case yaml.MappingNode:
		return s.mapping(n, false)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, item := range n.Content {
			v, err := s.value(item)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.ScalarNode:
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, &Error{Line: n.Line, Msg: err.Error()}
		}
		return v, nil
	}
	return nil, nil
}

// mapping converts a mapping node; top is true for the document's root.
func (s *settingsBuilder) mapping(n *yaml.Node, top bool) (map[string]any, error) {
	out := make(map[string]any, len(n.Content)/2)
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Tag == "!!merge" {
			merges = append(merges, v)
			continue
		}
		key := strings.ToLower(k.Value)
		if top && isExtension(key) {
			continue
		}
		if _, dup := out[key]; dup {
			continue // the line index reports duplicates; the first wins
		}
		val, err := s.value(v)
		if err != nil {
			return nil, err
		}
		out[key] = val
	}
	for _, m := range merges {
		if err := s.merge(out, m); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// merge adds the keys of a merge value (a mapping, an alias of one, or a
// sequence of those) that out does not have yet.
func (s *settingsBuilder) merge(out map[string]any, m *yaml.Node) error {
	if m.Kind == yaml.SequenceNode {
		for _, item := range m.Content {
			if err := s.merge(out, item); err != nil {
				return err
			}
		}
		return nil
	}
	v, err := s.value(m)
	if err != nil {
		return err
	}
	src, ok := v.(map[string]any)
	if !ok {
		return &Error{Line: m.Line, Msg: "a merge key (<<) takes a mapping or a list of mappings"}
	}
	for k, val := range src {
		if _, have := out[k]; !have {
			out[k] = val
		}
	}
	return nil
}
