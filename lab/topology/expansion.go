package topology

import (
	"fmt"

	"go.yaml.in/yaml/v3"
)

// expansionSlack is how many values alias expansion may add beyond twice
// the number of nodes in the file. A legitimate topology builds about as
// many values as it has nodes (anchors are reused a few times); a "billion
// laughs" file of nested aliases would build exponentially many and is
// refused instead.
const expansionSlack = 100_000

// checkExpansion walks the parsed document (a mapping, see parseTree, of
// nodes nodes, see checkTree) the
// way the decoder reads it, building nothing, and refuses what the decoder
// must not meet: aliases that expand past the budget (expansionSlack), an
// alias that contains itself, a merge key (`<<`) whose value is not a
// mapping or a list of mappings, and a scalar whose explicit tag does not
// fit its text (`!!int abc`). It counts every value the loader reads:
// top-level `x-` keys are left out (their anchors still serve aliases
// elsewhere), so are the repeats of a duplicate key, and a merged mapping
// counts whole. Its errors are *Error with the line (the caller sets the
// file). Its time is linear in the size of the file plus the budget.
func checkExpansion(root *yaml.Node, nodes int) error {
	e := expansion{active: map[*yaml.Node]bool{}, done: map[*yaml.Node]int{}, limit: 2*nodes + expansionSlack}
	return e.mapping(root, true)
}

// expansion holds the count of values read and the aliases being expanded
// (to refuse an alias that contains itself).
type expansion struct {
	built, limit int
	active       map[*yaml.Node]bool
	// done holds, for each alias target walked without error, how many
	// values it counted. Walking it again counts the same and finds
	// nothing new: a cycle or a bad value reachable from it would have
	// been refused the first time, as the walk follows every alias. So a
	// repeat adds the count at once, unless that passes the budget: then
	// it is walked again to name the line where the budget runs out.
	done map[*yaml.Node]int
}

func (e *expansion) value(n *yaml.Node) error {
	e.built++
	if e.built > e.limit {
		return &Error{Line: n.Line, Msg: fmt.Sprintf("the file expands to more than %d values through aliases", e.limit)}
	}
	switch n.Kind {
	case yaml.AliasNode:
		if e.active[n.Alias] {
			return &Error{Line: n.Line, Msg: fmt.Sprintf("alias *%s refers to itself", n.Value)}
		}
		if count, ok := e.done[n.Alias]; ok && e.built+count <= e.limit {
			e.built += count
			return nil
		}
		e.active[n.Alias] = true
		defer delete(e.active, n.Alias)
		before := e.built
		if err := e.value(n.Alias); err != nil {
			return err
		}
		e.done[n.Alias] = e.built - before
		return nil
	case yaml.MappingNode:
		return e.mapping(n, false)
	case yaml.SequenceNode:
		for _, item := range n.Content {
			if err := e.value(item); err != nil {
				return err
			}
		}
	case yaml.ScalarNode:
		if n.Style&yaml.TaggedStyle != 0 {
			var v any
			if err := n.Decode(&v); err != nil {
				return &Error{Line: n.Line, Msg: err.Error()}
			}
		}
	}
	return nil
}

// mapping walks a mapping node; top is true for the document's root.
func (e *expansion) mapping(n *yaml.Node, top bool) error {
	var seen keySet
	merges, err := ownEntries(n, top, &seen, func(_ string, _, v *yaml.Node) error { return e.value(v) })
	if err != nil {
		return err
	}
	for _, m := range merges {
		if err := e.merge(m); err != nil {
			return err
		}
	}
	return nil
}

// merge walks a merge value: a mapping, an alias of one, or a list of
// those.
func (e *expansion) merge(m *yaml.Node) error {
	if m.Kind == yaml.SequenceNode {
		for _, item := range m.Content {
			if err := e.merge(item); err != nil {
				return err
			}
		}
		return nil
	}
	if err := e.value(m); err != nil {
		return err
	}
	if resolveAlias(m).Kind != yaml.MappingNode {
		return &Error{Line: m.Line, Msg: "a merge key (<<) takes a mapping or a list of mappings"}
	}
	return nil
}
