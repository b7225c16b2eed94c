package graph

import (
	"fmt"
	"io"
	"strings"
)

// WriteDOT writes g as a Graphviz graph: nodes filled by kind (a double
// border for route reflectors), edges styled by session kind and coloured
// by state, with the last error as the edge's tooltip.
func WriteDOT(w io.Writer, g *Graph) error {
	e := &errWriter{w: w}
	e.printf("graph %s {\n", dotID(g.Name))
	e.printf("  graph [label=%s, labelloc=t, fontname=\"Helvetica\"];\n", dotID(g.Name))
	e.printf("  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\"];\n")
	for _, n := range g.Nodes {
		periph := 1
		if n.hasRole("route-reflector") {
			periph = 2
		}
		e.printf("  %s [label=%s, fillcolor=%s, peripheries=%d];\n",
			dotID(n.Name), dotID(n.Name+"\n"+n.label()), dotID(kindColor(n.Kind)), periph)
	}
	for _, ed := range g.Edges {
		class := ed.Class()
		attrs := []string{
			"color=" + dotID(stateColor(class)),
			"style=" + edgeStyle(ed.Kind),
		}
		if ed.State != "" {
			attrs = append(attrs, "label="+dotID(ed.StateLabel()))
		}
		tip := ed.Kind
		if ed.LastError != "" {
			tip += ": " + ed.LastError
		}
		attrs = append(attrs, "tooltip="+dotID(tip))
		e.printf("  %s -- %s [%s];\n", dotID(ed.A), dotID(ed.B), strings.Join(attrs, ", "))
	}
	e.printf("}\n")
	if e.err != nil {
		return fmt.Errorf("write dot: %w", e.err)
	}
	return nil
}

// dotID quotes s as a DOT string.
func dotID(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}

// edgeStyle is the line style of a session kind: mesh solid,
// route-reflector dashed, between bold.
func edgeStyle(kind string) string {
	switch kind {
	case "route-reflector":
		return "dashed"
	case "between":
		return "bold"
	}
	return "solid"
}
