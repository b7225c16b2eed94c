package diagnose

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Formats lists the output formats of WriteReport.
var Formats = []string{"text", "json"}

// WriteReport writes the report as "text" (for people) or "json" (stable
// field names: healthy, findings[{cause, confidence, node, peer, summary,
// evidence[], remediation[]}], evidence[{source, kind, node, lines[]}],
// unknowns[]).
func WriteReport(w io.Writer, r Report, format string) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(r); err != nil {
			return fmt.Errorf("diagnose: write json report: %w", err)
		}
		return nil
	case "text", "":
		if _, err := io.WriteString(w, renderText(r)); err != nil {
			return fmt.Errorf("diagnose: write report: %w", err)
		}
		return nil
	}
	return fmt.Errorf("diagnose: unknown output format %q (want %s)", format, strings.Join(Formats, " or "))
}

// renderText renders the report for people.
func renderText(r Report) string {
	var b strings.Builder
	if r.Healthy {
		fmt.Fprintf(&b, "healthy: no problem found in %d pieces of evidence\n", len(r.Evidence))
	} else {
		fmt.Fprintf(&b, "%d finding(s), most likely first:\n", len(r.Findings))
	}
	for i, f := range r.Findings {
		where := ""
		if f.Node != "" {
			where = " node " + f.Node
		}
		if f.Peer != "" {
			where += " peer " + f.Peer
		}
		fmt.Fprintf(&b, "\n%d. %s (%s confidence)%s\n", i+1, f.Cause, f.Confidence, where)
		fmt.Fprintf(&b, "   %s\n", f.Summary)
		if len(f.Evidence) > 0 {
			b.WriteString("   evidence:\n")
			for _, e := range f.Evidence {
				fmt.Fprintf(&b, "     | %s\n", e)
			}
		}
		if len(f.Remediation) > 0 {
			b.WriteString("   remediation:\n")
			for j, s := range f.Remediation {
				fmt.Fprintf(&b, "     %d) %s\n", j+1, s)
			}
		}
	}
	if len(r.Unknowns) > 0 {
		b.WriteString("\nnot settled by the evidence:\n")
		for _, u := range r.Unknowns {
			fmt.Fprintf(&b, "  - %s\n", u)
		}
	}
	b.WriteString("\nevidence read:\n")
	for _, e := range r.Evidence {
		node := ""
		if e.Node != "" {
			node = " [" + e.Node + "]"
		}
		fmt.Fprintf(&b, "  - %s: %s%s (%d lines)\n", e.Source, e.Kind, node, len(e.Lines))
	}
	return b.String()
}
