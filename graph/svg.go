package graph

import (
	"fmt"
	"html"
	"io"
	"math"
)

// Sizes of the SVG drawing, in pixels.
const (
	boxW, boxH = 190.0, 48.0
	margin     = 20.0
)

// point is a node's centre in the drawing.
type point struct{ x, y float64 }

// layout places the nodes on a circle, first node on top, clockwise, and
// returns the centres and the drawing's size.
func layout(g *Graph) (map[string]point, float64, float64) {
	n := len(g.Nodes)
	r := 0.0
	if n > 1 {
		// Far enough apart that neighbouring boxes do not overlap.
		r = math.Max(120, (boxW+30)*float64(n)/(2*math.Pi))
	}
	w := 2*r + boxW + 2*margin
	h := 2*r + boxH + 2*margin + 30 // 30: the title
	cx, cy := w/2, 30+margin+r+boxH/2
	pos := map[string]point{}
	for i, node := range g.Nodes {
		a := -math.Pi/2 + 2*math.Pi*float64(i)/float64(n)
		pos[node.Name] = point{cx + r*math.Cos(a), cy + r*math.Sin(a)}
	}
	return pos, w, h
}

// WriteSVG writes g as a standalone SVG document.
func WriteSVG(w io.Writer, g *Graph) error {
	e := &errWriter{w: w}
	e.printf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
	writeSVGBody(e, g)
	if e.err != nil {
		return fmt.Errorf("write svg: %w", e.err)
	}
	return nil
}

// writeSVGBody writes the <svg> element: edges first (under the boxes),
// each with a <title> (the hover text: kind, state, last error), then the
// nodes, then a legend.
func writeSVGBody(e *errWriter, g *Graph) {
	pos, w, h := layout(g)
	h += 40 // legend
	e.printf("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" font-family=\"Helvetica, Arial, sans-serif\">\n", w, h, w, h)
	e.printf("  <title>%s</title>\n", html.EscapeString(g.Name))
	e.printf("  <text x=\"%.1f\" y=\"24\" text-anchor=\"middle\" font-size=\"18\" font-weight=\"bold\">%s</text>\n", w/2, html.EscapeString(g.Name))
	for _, ed := range g.Edges {
		a, b := pos[ed.A], pos[ed.B]
		class := ed.Class()
		dash := ""
		switch ed.Kind {
		case "route-reflector":
			dash = ` stroke-dasharray="8 5"`
		case "between":
			dash = ` stroke-dasharray="2 3"`
		}
		tip := ed.A + " – " + ed.B + " (" + ed.Kind + ")"
		if ed.State != "" {
			tip += ": " + ed.StateLabel()
		}
		if ed.LastError != "" {
			tip += "\n" + ed.LastError
		}
		e.printf("  <g class=\"session %s\">\n", class)
		e.printf("    <title>%s</title>\n", html.EscapeString(tip))
		e.printf("    <line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"3\"%s/>\n",
			a.x, a.y, b.x, b.y, stateColor(class), dash)
		if ed.State != "" {
			e.printf("    <text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"11\" fill=\"%s\">%s</text>\n",
				(a.x+b.x)/2, (a.y+b.y)/2-4, stateColor(class), html.EscapeString(ed.StateLabel()))
		}
		e.printf("  </g>\n")
	}
	for _, n := range g.Nodes {
		p := pos[n.Name]
		x, y := p.x-boxW/2, p.y-boxH/2
		e.printf("  <g class=\"node %s\">\n", n.Kind)
		e.printf("    <title>%s</title>\n", html.EscapeString(n.Name+": "+n.label()))
		e.printf("    <rect x=\"%.1f\" y=\"%.1f\" width=\"%.0f\" height=\"%.0f\" rx=\"8\" fill=\"%s\" stroke=\"#37474f\" stroke-width=\"%d\"/>\n",
			x, y, boxW, boxH, kindColor(n.Kind), borderWidth(n))
		e.printf("    <text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\">%s</text>\n", p.x, p.y-5, html.EscapeString(n.Name))
		e.printf("    <text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"9\">%s</text>\n", p.x, p.y+12, html.EscapeString(n.label()))
		e.printf("  </g>\n")
	}
	ly := h - 20
	x := margin
	for _, c := range []string{"up", "connecting", "down", "unknown"} {
		e.printf("  <line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"3\"/>\n", x, ly, x+20, ly, stateColor(c))
		e.printf("  <text x=\"%.1f\" y=\"%.1f\" font-size=\"11\">%s</text>\n", x+25, ly+4, c)
		x += 95
	}
	e.printf("</svg>\n")
}

// borderWidth is 3 for route reflectors and nodes with cluster roles, else 1.
func borderWidth(n Node) int {
	if len(n.Roles) > 0 {
		return 3
	}
	return 1
}
