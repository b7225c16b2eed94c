package lab

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// WriteTimeline writes the report's session state changes for people, the
// last `last` of them (all when last <= 0), oldest first, as `peerlab
// status` shows them under its session table:
//
//	AT     SESSION         CHANGE              WHY
//	1.8s   node1 -> node2  Active -> Established
func (r Report) WriteTimeline(w io.Writer, last int) error {
	entries := r.Timeline
	if len(entries) == 0 {
		return nil
	}
	skipped := 0
	if last > 0 && len(entries) > last {
		skipped = len(entries) - last
		entries = entries[skipped:]
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw)
	if skipped > 0 {
		fmt.Fprintf(tw, "(%d earlier state changes not shown; -o json lists them all)\n", skipped)
	}
	fmt.Fprintln(tw, "AT\tSESSION\tCHANGE\tWHY")
	for _, e := range entries {
		why := e.Reason
		if e.Notification != "" {
			why = "NOTIFICATION " + e.Notification
		}
		if why == "" {
			why = "-"
		}
		from := e.From
		if from == "" {
			from = "(start)" // the first state seen
		}
		fmt.Fprintf(tw, "%.1fs\t%s -> %s\t%s -> %s\t%s\n", float64(e.AtMS)/1000, e.Local, e.Remote, from, e.To, why)
	}
	return flush(tw)
}
