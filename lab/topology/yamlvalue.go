package topology

import (
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// This file reads values out of the yaml.Node tree the way the loader sees
// them: mapping keys lower-cased, the first of duplicate keys winning, merge
// keys (`<<`) applied with explicit keys winning, aliases followed, and
// scalars resolved exactly as yaml.v3 decodes them into an `any`. The
// decoder (decode.go) and the alias budget (expansion.go) share these
// rules so that both see the same values.

// resolveAlias returns the node an alias stands for, or n itself.
func resolveAlias(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// scalarValue resolves a scalar node the way yaml.v3 decodes it into an
// `any`: a string, bool, int, int64, uint64, float64, time.Time or nil.
// The common untagged forms are resolved here; the rest go through
// yaml.v3 itself. Scalars whose explicit tag does not fit their text are
// refused by checkExpansion before any value is read, so the error
// cannot happen here.
func scalarValue(n *yaml.Node) any {
	if n.Tag == "!!str" {
		return n.Value
	}
	if n.Style&yaml.TaggedStyle == 0 {
		switch n.Tag {
		case "!!null":
			return nil
		case "!!bool":
			// The resolver only tags true/True/TRUE/false/False/FALSE.
			return n.Value[0] == 't' || n.Value[0] == 'T'
		case "!!int":
			plain := n.Value
			if strings.IndexByte(plain, '_') >= 0 {
				plain = strings.ReplaceAll(plain, "_", "")
			}
			if i, err := strconv.ParseInt(plain, 0, 64); err == nil {
				return int(i)
			}
		}
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return nil
	}
	return v
}

// isNull reports whether n (alias followed) is a null scalar: the loader
// treats `key: ~` like a missing key.
func isNull(n *yaml.Node) bool {
	if n.Kind != yaml.ScalarNode {
		return false
	}
	if n.Style&yaml.TaggedStyle == 0 {
		return n.Tag == "!!null"
	}
	return scalarValue(n) == nil
}

// nodeValue returns n (alias followed) as a plain value for error messages
// and the value decoders of raw.go: scalars resolved, sequences as []any of
// their items' values. With deep set, mappings become map[string]any of
// their entries and items are converted all the way down; otherwise
// mappings are empty map[string]any and items of items empty, which is all
// describe and the value decoders look at.
func nodeValue(n *yaml.Node, deep bool) any {
	return nodeValueAt(resolveAlias(n), deep, true)
}

func nodeValueAt(n *yaml.Node, deep, items bool) any {
	n = resolveAlias(n)
	switch n.Kind {
	case yaml.ScalarNode:
		return scalarValue(n)
	case yaml.SequenceNode:
		if !items {
			return []any{}
		}
		out := make([]any, len(n.Content))
		for i, item := range n.Content {
			out[i] = nodeValueAt(item, deep, deep)
		}
		return out
	case yaml.MappingNode:
		if !deep {
			return map[string]any{}
		}
		ents := entries(n, false)
		out := make(map[string]any, len(ents))
		for _, e := range ents {
			out[e.key] = nodeValueAt(e.val, true, true)
		}
		return out
	}
	return nil
}

// entry is one key of a mapping as the loader sees it.
type entry struct {
	key string     // lower-cased
	k   *yaml.Node // the key as written
	val *yaml.Node
	// merged is true for a key a merge key (<<) brought in: its value is
	// shared with the mapping it came from.
	merged bool
}

// entries lists the keys of the mapping n in file order, lower-cased, the
// first of duplicates winning (yamlindex.go reports the others), followed
// by the keys merge keys add. top leaves out the document's `x-` keys.
func entries(n *yaml.Node, top bool) []entry {
	return appendEntries(make([]entry, 0, len(n.Content)/2), n, top, nil)
}

// mergedEntries remembers the entries of each mapping a merge key (<<)
// brought in, so that a mapping merged into many others is read once. Its
// lists are shared: callers must not change them. A nil mergedEntries
// remembers nothing.
type mergedEntries map[*yaml.Node][]entry

// of returns entries(src, false), read once.
func (m mergedEntries) of(src *yaml.Node) []entry {
	if m == nil {
		return entries(src, false)
	}
	if list, ok := m[src]; ok {
		return list
	}
	list := appendEntries(make([]entry, 0, len(src.Content)/2), src, false, m)
	m[src] = list
	return list
}

// appendEntries appends the entries of the mapping n to out, reading the
// mappings merge keys bring in through merged.
func appendEntries(out []entry, n *yaml.Node, top bool, merged mergedEntries) []entry {
	var seen keySet
	merges, _ := ownEntries(n, top, &seen, func(key string, k, v *yaml.Node) error {
		out = append(out, entry{key: key, k: k, val: v})
		return nil
	})
	for _, m := range merges {
		out = mergeEntries(out, &seen, m, merged)
	}
	return out
}

// ownEntries calls fn for each key the mapping n holds itself, in file
// order and lower-cased (with the key node k and the value v), the first of duplicates winning (yamlindex.go
// reports the others), and records them in seen; top leaves out the
// document's `x-` keys. It returns the merge values (<<) it met, for the
// caller to apply after the mapping's own keys, or the first error of fn.
// The decoder (appendEntries) and the alias budget walk
// (expansion.mapping) both read a mapping through it.
func ownEntries(n *yaml.Node, top bool, seen *keySet, fn func(key string, k, v *yaml.Node) error) ([]*yaml.Node, error) {
	var merges []*yaml.Node
	seen.expect(len(n.Content) / 2)
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
		if _, isNew := seen.add(key, 0); !isNew {
			continue
		}
		if err := fn(key, k, v); err != nil {
			return nil, err
		}
	}
	return merges, nil
}

// mergeEntries adds the keys of a merge value (a mapping, an alias of one,
// or a list of those) that out does not have yet. checkExpansion has
// refused any other merge value.
func mergeEntries(out []entry, seen *keySet, m *yaml.Node, merged mergedEntries) []entry {
	if m.Kind == yaml.SequenceNode {
		for _, item := range m.Content {
			out = mergeEntries(out, seen, item, merged)
		}
		return out
	}
	src := resolveAlias(m)
	if src.Kind != yaml.MappingNode {
		return out
	}
	for _, e := range merged.of(src) {
		if _, isNew := seen.add(e.key, 0); isNew {
			e.merged = true
			out = append(out, e)
		}
	}
	return out
}

// keySet tells whether a mapping already has a key, and where it first
// had it. The first smallMapping keys are searched in place; past them a
// map takes over, so a mapping of any size is checked in linear time.
type keySet struct {
	small   [smallMapping]string
	smallAt [smallMapping]int
	n       int
	big     map[string]int
	// hint is how many keys the set expects, to size its map.
	hint int
}

const smallMapping = 16

// expect tells the set it will hold about n keys.
func (s *keySet) expect(n int) {
	s.hint = max(s.hint, n)
}

// add records key, seen at position at, and reports whether it is new;
// when it is not, first is the position it was first seen at.
func (s *keySet) add(key string, at int) (first int, isNew bool) {
	if s.big == nil {
		for i, k := range s.small[:s.n] {
			if k == key {
				return s.smallAt[i], false
			}
		}
		if s.n < smallMapping {
			s.small[s.n], s.smallAt[s.n] = key, at
			s.n++
			return at, true
		}
		s.big = make(map[string]int, max(4*smallMapping, s.hint))
		for i, k := range s.small {
			s.big[k] = s.smallAt[i]
		}
	}
	if first, dup := s.big[key]; dup {
		return first, false
	}
	s.big[key] = at
	return at, true
}
