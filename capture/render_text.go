package capture

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"
)

// arrowWidth is the width of a ladder arrow between the two columns.
const arrowWidth = 34

// renderText writes one ladder diagram per session: a column per speaker,
// an arrow per event, times relative to the start of the capture.
func renderText(w io.Writer, tl *Timeline) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "capture: %d packets, %d BGP messages, %d sessions", tl.Packets, tl.Messages, len(tl.Sessions))
	if !tl.Start.IsZero() {
		fmt.Fprintf(bw, ", start %s", tl.Start.UTC().Format(time.RFC3339Nano))
	}
	if tl.Elided > 0 {
		fmt.Fprintf(bw, ", %d UPDATE/KEEPALIVE not stored", tl.Elided)
	}
	if tl.Truncated {
		bw.WriteString(" (truncated)")
	}
	bw.WriteString("\n")
	if u := tl.Untracked; u.Sessions > 0 {
		fmt.Fprintf(bw, "%d more sessions (%d packets) past the first %d were counted, not decoded (--max-sessions)\n", u.Sessions, u.Packets, len(tl.Sessions))
	}
	for _, s := range tl.Sessions {
		writeSessionText(bw, tl.Start, s)
	}
	return bw.Flush()
}

func writeSessionText(bw *bufio.Writer, start time.Time, s *Session) {
	c := s.Counts
	fmt.Fprintf(bw, "\n== session %s <-> %s  hold=%ds  open=%d update=%d keepalive=%d notification=%d route-refresh=%d malformed=%d\n",
		s.A, s.B, s.HoldTime, c.Open, c.Update, c.Keepalive, c.Notification, c.RouteRefresh, c.Malformed)
	left, right := s.A.String(), s.B.String()
	fmt.Fprintf(bw, "%12s  %-*s%s\n", "time", arrowWidth+2, left, right)
	for i := range s.Events {
		e := &s.Events[i]
		rel := e.Time.Sub(start).Seconds()
		fmt.Fprintf(bw, "%+12.6f  %s  %s\n", rel, arrow(e, s), eventNote(e))
	}
}

// arrow draws "|---- LABEL --->|" or "|<--- LABEL ----|"; a gap is drawn
// as a wavy line, elided messages as a dotted one.
func arrow(e *Event, s *Session) string {
	label := " " + e.Label() + " "
	fromA := e.From.Addr() == s.A
	inner := arrowWidth - 1
	if len(label) > inner-2 {
		label = label[:inner-2]
	}
	fill := "-"
	switch e.Kind {
	case KindGap:
		fill = "~"
	case KindElided:
		fill = "."
	}
	pad := inner - len(label)
	l, r := pad/2, pad-pad/2
	if fromA {
		return "|" + strings.Repeat(fill, l) + label + strings.Repeat(fill, r) + ">|"
	}
	return "|<" + strings.Repeat(fill, l) + label + strings.Repeat(fill, r) + "|"
}

// eventNote is the text right of the arrow: ports then the summary.
func eventNote(e *Event) string {
	return fmt.Sprintf("%d>%d %s", e.From.Port(), e.To.Port(), e.Summary())
}
