package bench

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// UPDATE layout of the packed floor: a 19-byte header, the two 2-byte
// length fields and minimal attributes (ORIGIN 4 bytes, AS_PATH of one
// 4-byte AS 9 bytes, NEXT_HOP 7 bytes) in a message of at most 4096 bytes.
const (
	UpdateOverhead = 19 + 2 + 2 + 4 + 9 + 7
	maxUpdate      = 4096
	// FloorPerUpdate is how many /24s (4 bytes each) fit in one UPDATE.
	FloorPerUpdate = (maxUpdate - UpdateOverhead) / 4
)

// FloorBytes is the fewest UPDATE bytes that carry n /24s with minimal
// attributes: 4·n + ⌈n / FloorPerUpdate⌉ · UpdateOverhead.
func FloorBytes(n int) int64 {
	updates := (n + FloorPerUpdate - 1) / FloorPerUpdate
	return 4*int64(n) + int64(updates)*UpdateOverhead
}

// Render writes the rows as a table followed by the ratios.
func Render(w io.Writer, n int, target string, rows []Row) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "injector\troutes\tSYN to full\tSYN to last UPDATE\troutes/s\tUPDATEs\tUPDATE bytes\tprefixes/UPDATE\tbytes/floor\tpeak RSS\t\n")
	by := map[Injector]Row{}
	floor := FloorBytes(n)
	for _, r := range rows {
		by[r.Injector] = r
		perUpd, rate := 0.0, 0.0
		if r.Wire.Updates > 0 {
			perUpd = float64(r.Wire.Prefixes) / float64(r.Wire.Updates)
		}
		if r.Took > 0 {
			rate = float64(r.Reached) / r.Took.Seconds()
		}
		fmt.Fprintf(tw, "%s\t%d\t%.2f s\t%.2f s\t%.0f\t%d\t%d\t%.1f\t%.3f\t%.1f MiB\t\n", r.Injector, r.Reached,
			r.Took.Seconds(), r.Wire.LastUpdate.Sub(r.Wire.FirstSYN).Seconds(), rate, r.Wire.Updates, r.Wire.UpdateBytes, perUpd,
			float64(r.Wire.UpdateBytes)/float64(floor), float64(r.PeakRSS)/(1<<20))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("render: %w", err)
	}
	fmt.Fprintf(w, "\nN=%d /24s into %s; floor = 4*N + ceil(N/%d)*%d = %d bytes (minimal attributes, 4096-byte UPDATEs)\n",
		n, target, FloorPerUpdate, UpdateOverhead, floor)
	line := func(label string, a, b Injector) {
		ra, oka := by[a]
		rb, okb := by[b]
		if !oka || !okb || rb.Took <= 0 {
			return
		}
		fmt.Fprintf(w, "%-18s time %.2fx  bytes %.2fx  peak RSS %.2fx\n", label, ratio(ra.Took, rb.Took),
			float64(ra.Wire.UpdateBytes)/float64(max(rb.Wire.UpdateBytes, 1)), float64(ra.PeakRSS)/float64(max(rb.PeakRSS, 1)))
	}
	line("peerlab/BIRD:", Peerlab, BIRD)
	line("ExaBGP/peerlab:", ExaBGP, Peerlab)
	return nil
}

// ratio is a/b.
func ratio(a, b time.Duration) float64 { return a.Seconds() / b.Seconds() }
