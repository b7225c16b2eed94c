package graph

import (
	"fmt"
	"html"
	"io"
)

// WriteHTML writes a self-contained page: the SVG drawing inline (hovering
// an edge shows its state and last error) and a table of the sessions.
func WriteHTML(w io.Writer, g *Graph) error {
	e := &errWriter{w: w}
	e.printf("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>peerlab: %s</title>\n", html.EscapeString(g.Name))
	e.printf("<style>body{font-family:Helvetica,Arial,sans-serif;margin:1em}g.session:hover line{stroke-width:6}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}</style>\n</head>\n<body>\n")
	writeSVGBody(e, g)
	e.printf("<table>\n<tr><th>session</th><th>kind</th><th>state</th><th>last error</th></tr>\n")
	for _, ed := range g.Edges {
		state := ed.StateLabel()
		if state == "" {
			state = "-"
		}
		e.printf("<tr><td>%s – %s</td><td>%s</td><td style=\"color:%s\">%s</td><td>%s</td></tr>\n",
			html.EscapeString(ed.A), html.EscapeString(ed.B), html.EscapeString(ed.Kind),
			stateColor(ed.Class()), html.EscapeString(state), html.EscapeString(ed.LastError))
	}
	e.printf("</table>\n</body>\n</html>\n")
	if e.err != nil {
		return fmt.Errorf("write html: %w", e.err)
	}
	return nil
}
