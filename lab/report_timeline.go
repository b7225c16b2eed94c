package lab

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// WriteTimeline writes a run's timeline for people, one line per entry:
// time from lab start, what happened and where.
func WriteTimeline(w io.Writer, tl []TimelineEntry) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "AT\tEVENT\tWHERE\tDETAIL")
	for _, e := range tl {
		switch e.Type {
		case TimelineSession:
			why := e.Reason
			if e.Notification != "" {
				why = "NOTIFICATION " + e.Notification
			}
			fmt.Fprintf(tw, "%s\tsession %s -> %s\t%s->%s\t%s\n", seconds(e.AtMS), orDash(e.From), e.To, e.Local, e.Remote, orDash(why))
		case TimelineFault:
			f := e.Fault
			who := f.Node
			if f.Peer != "" {
				who += " (peer " + f.Peer + ")"
			}
			name := f.Fault
			if f.Label != "" {
				name += " [" + f.Label + "]"
			}
			res := "ok"
			if f.Error != "" {
				res = f.Error
			}
			fmt.Fprintf(tw, "%s\t%s %s\t%s\t%s\n", seconds(e.AtMS), f.Action, name, who, res)
		case TimelineExpectation:
			x := e.Expectation
			where := ""
			if x.Line > 0 {
				where = fmt.Sprintf("line %d", x.Line)
			}
			fmt.Fprintf(tw, "%s\t%s %s\t%s\t%s (%s)\n", seconds(e.AtMS), verdictMark(*x), x.Kind, orDash(where), x.Description, x.Basis)
		}
	}
	return flush(tw)
}

// verdictMark is PASS or FAIL.
func verdictMark(e ExpectationResult) string {
	if e.OK {
		return "PASS"
	}
	return "FAIL"
}

// seconds renders milliseconds from lab start as "12.3s".
func seconds(ms int64) string { return fmt.Sprintf("%.1fs", float64(ms)/1000) }

// orDash is s, or "-" when it is empty.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// findingLine renders a finding's cause, confidence, node and peer.
func findingLine(f DiagnosisFinding) string {
	out := fmt.Sprintf("%s (%s)", f.Cause, f.Confidence)
	if f.Node != "" {
		out += " on " + f.Node
	}
	if f.Peer != "" {
		out += " peer " + f.Peer
	}
	return out
}
