package capture

import (
	"html/template"
	"io"
	"sync"
	"time"
)

// SVG geometry of the HTML ladder.
const (
	svgWidth   = 760
	svgLeftX   = 150
	svgRightX  = 610
	svgTopY    = 50
	svgRowH    = 28
	svgBottomY = 20
)

// htmlRow is one event as drawn in the SVG.
type htmlRow struct {
	Y, X1, X2, TextX int
	Time, Label      string
	Summary          string
	Kind             string
	NoHead           bool // gap or elided run: a line without arrowhead
}

// htmlSession is one session's SVG ladder.
type htmlSession struct {
	Title, Left, Right string
	Counts             MessageCounts
	Height, LineBottom int
	Rows               []htmlRow
}

// htmlPage is the timeline page, parsed on first use.
var htmlPage = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("page").Parse(htmlPageText))
})

// htmlPageText is the text of htmlPage.
const htmlPageText = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>BGP capture timeline</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
h2{font-size:1.1em;margin-top:2em}
svg{border:1px solid #ddd;background:#fff}
text{font-family:ui-monospace,monospace;font-size:12px}
.speaker{font-weight:bold;font-size:13px}
.time{fill:#666}
.arrow{stroke:#1f5fa8;stroke-width:1.5}
.kind-notification .arrow,.kind-rst .arrow,.kind-malformed .arrow,.kind-icmp-unreachable .arrow{stroke:#c0392b}
.kind-gap .arrow{stroke:#e67e22;stroke-dasharray:4 3}
.kind-keepalive .arrow{stroke:#999}
.kind-elided .arrow{stroke:#999;stroke-dasharray:1 4}
</style></head><body>
<h1>BGP capture timeline</h1>
<p>{{.Packets}} packets, {{.Messages}} BGP messages, {{len .Sessions}} sessions{{if .Elided}}, {{.Elided}} UPDATE/KEEPALIVE not stored{{end}}{{if .Truncated}} (capture truncated){{end}}.{{if .Untracked.Sessions}} {{.Untracked.Sessions}} more sessions ({{.Untracked.Packets}} packets) were counted, not decoded.{{end}}</p>
{{range .Sessions}}
<h2>{{.Title}}</h2>
<p>OPEN {{.Counts.Open}} · UPDATE {{.Counts.Update}} · KEEPALIVE {{.Counts.Keepalive}} · NOTIFICATION {{.Counts.Notification}} · ROUTE-REFRESH {{.Counts.RouteRefresh}} · malformed {{.Counts.Malformed}}</p>
<svg xmlns="http://www.w3.org/2000/svg" width="760" height="{{.Height}}" viewBox="0 0 760 {{.Height}}">
<defs><marker id="head" markerWidth="8" markerHeight="8" refX="8" refY="4" orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#1f5fa8"/></marker></defs>
<text class="speaker" x="150" y="20" text-anchor="middle">{{.Left}}</text>
<text class="speaker" x="610" y="20" text-anchor="middle">{{.Right}}</text>
<line x1="150" y1="30" x2="150" y2="{{.LineBottom}}" stroke="#444"/>
<line x1="610" y1="30" x2="610" y2="{{.LineBottom}}" stroke="#444"/>
{{range .Rows}}<g class="kind-{{.Kind}}"><title>{{.Summary}}</title>
<text class="time" x="4" y="{{.Y}}">{{.Time}}</text>
<line class="arrow" x1="{{.X1}}" y1="{{.Y}}" x2="{{.X2}}" y2="{{.Y}}"{{if not .NoHead}} marker-end="url(#head)"{{end}}/>
<text x="{{.TextX}}" y="{{.Y}}" dy="-4" text-anchor="middle">{{.Label}}</text>
</g>
{{end}}</svg>
{{end}}
</body></html>
`

// renderHTML writes a self-contained page, one inline SVG ladder per
// session. All text goes through html/template, so it is escaped.
func renderHTML(w io.Writer, tl *Timeline) error {
	page := struct {
		Packets, Messages, Elided int64
		Truncated                 bool
		Untracked                 Untracked
		Sessions                  []htmlSession
	}{Packets: tl.Packets, Messages: tl.Messages, Elided: tl.Elided, Truncated: tl.Truncated, Untracked: tl.Untracked}
	for _, s := range tl.Sessions {
		hs := htmlSession{
			Title: s.A.String() + " ↔ " + s.B.String(), Left: s.A.String(), Right: s.B.String(), Counts: s.Counts,
		}
		for i := range s.Events {
			e := &s.Events[i]
			y := svgTopY + i*svgRowH
			x1, x2 := svgLeftX, svgRightX
			if e.From.Addr() != s.A {
				x1, x2 = x2, x1
			}
			hs.Rows = append(hs.Rows, htmlRow{
				Y: y, X1: x1, X2: x2, TextX: (svgLeftX + svgRightX) / 2,
				Time:  "+" + e.Time.Sub(tl.Start).Round(time.Microsecond).String(),
				Label: truncateRunes(e.Summary(), 72), Summary: e.Summary(),
				Kind: e.Kind.String(), NoHead: e.Kind == KindGap || e.Kind == KindElided,
			})
		}
		hs.LineBottom = svgTopY + len(s.Events)*svgRowH
		hs.Height = hs.LineBottom + svgBottomY
		page.Sessions = append(page.Sessions, hs)
	}
	return htmlPage().Execute(w, page)
}

// truncateRunes shortens s to at most n runes, marking the cut.
func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
