package graph

import (
	"fmt"
	"io"
	"strings"
)

// WriteMermaid writes g as a Mermaid flowchart: one class per node kind,
// edges labelled with the session kind (and state, for a running lab) and
// coloured by state with linkStyle.
func WriteMermaid(w io.Writer, g *Graph) error {
	e := &errWriter{w: w}
	e.printf("---\ntitle: %s\n---\n", g.Name)
	e.printf("flowchart LR\n")
	for _, n := range g.Nodes {
		open, closing := "[", "]"
		if n.hasRole("route-reflector") {
			open, closing = "[[", "]]"
		}
		e.printf("  %s%s\"%s<br/>%s\"%s:::%s\n", mermaidID(n.Name), open, n.Name, mermaidText(n.label()), closing, n.Kind)
	}
	for _, ed := range g.Edges {
		label := ed.Kind
		if ed.State != "" {
			label += ": " + ed.StateLabel()
		}
		arrow := "---"
		if ed.Kind == "route-reflector" {
			arrow = "-.-"
		}
		if arrow == "---" {
			e.printf("  %s ---|\"%s\"| %s\n", mermaidID(ed.A), mermaidText(label), mermaidID(ed.B))
		} else {
			e.printf("  %s -. \"%s\" .- %s\n", mermaidID(ed.A), mermaidText(label), mermaidID(ed.B))
		}
	}
	for i, ed := range g.Edges {
		e.printf("  linkStyle %d stroke:%s,stroke-width:2px\n", i, stateColor(ed.Class()))
	}
	for _, k := range []string{"gobgp", "bird", "bird2", "injector"} {
		e.printf("  classDef %s fill:%s,stroke:#37474f\n", k, kindColor(k))
	}
	if e.err != nil {
		return fmt.Errorf("write mermaid: %w", e.err)
	}
	return nil
}

// mermaidID makes a node name safe as a Mermaid id (names are [a-z0-9-]).
func mermaidID(name string) string { return "n_" + strings.ReplaceAll(name, "-", "_") }

// mermaidText escapes text inside a quoted Mermaid label.
func mermaidText(s string) string {
	return strings.NewReplacer(`"`, "#quot;", "[", "#91;", "]", "#93;").Replace(s)
}
