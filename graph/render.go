package graph

import (
	"fmt"
	"io"
)

// Formats lists the output formats Render accepts.
func Formats() []string { return []string{"dot", "svg", "mermaid", "html"} }

// Render writes g to w in format (one of Formats()).
func Render(w io.Writer, g *Graph, format string) error {
	switch format {
	case "dot":
		return WriteDOT(w, g)
	case "svg":
		return WriteSVG(w, g)
	case "mermaid":
		return WriteMermaid(w, g)
	case "html":
		return WriteHTML(w, g)
	}
	return fmt.Errorf("graph format %q: want dot, svg, mermaid or html", format)
}

// errWriter remembers the first write error so renderers can write freely
// and check once.
type errWriter struct {
	w   io.Writer
	err error
}

// printf writes unless an earlier write failed.
func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}
