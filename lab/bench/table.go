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

// The targets of issue 7 the ratio lines are checked against.
const (
	TargetTimeOverBIRD   = 1.5    // peerlab SYN to full at most 1.5x BIRD's
	TargetExaBGPOverTime = 20     // ExaBGP at least 20x slower than peerlab
	TargetBytesOverFloor = 1.1    // UPDATE bytes at most 1.1x the floor
	TargetRSSOverTarget  = 3      // peak RSS at most 3x the target's show memory
	TargetLiveRate       = 100000 // live routes/s at least
	TargetLivePerUpdate  = 500    // live prefixes per UPDATE at least
)

// Render writes the rows as a table followed by the ratio lines, each
// with the target and whether this run met it.
func Render(w io.Writer, n int, target string, rows []Row) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "injector\troutes\tSYN to full\tSYN to last UPDATE\tNLRI to full\troutes/s\tUPDATEs\tUPDATE bytes\tprefixes/UPDATE\tbytes/floor\tpeak RSS\ttarget memory\t\n")
	by := map[Injector]Row{}
	floor := FloorBytes(n)
	for _, r := range rows {
		by[r.Injector] = r
		rate := 0.0
		if r.Took > 0 {
			rate = float64(r.Reached) / r.Took.Seconds()
		}
		fmt.Fprintf(tw, "%s\t%d\t%.2f s\t%.2f s\t%.2f s\t%.0f\t%d\t%d\t%.1f\t%.3f\t%.1f MiB\t%.1f MiB\t\n", r.Injector, r.Reached,
			r.Took.Seconds(), r.Wire.LastUpdate.Sub(r.Wire.FirstSYN).Seconds(), r.FromNLRI.Seconds(), rate, r.Wire.Updates,
			r.Wire.UpdateBytes, perUpdate(r), float64(r.Wire.UpdateBytes)/float64(floor), mib(r.PeakRSS), mib(r.TargetMemory))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("render: %w", err)
	}
	for _, r := range rows {
		if r.Wire.Gaps > 0 {
			fmt.Fprintf(w, "\n%s: the capture lost segments (%d gaps): its UPDATE, byte and prefix counts cover only what was captured; its times stand", r.Injector, r.Wire.Gaps)
		}
	}
	fmt.Fprintf(w, "\nN=%d /24s into %s; floor = 4*N + ceil(N/%d)*%d = %d bytes (minimal attributes, 4096-byte UPDATEs)\n",
		n, target, FloorPerUpdate, UpdateOverhead, floor)
	line := func(label string, a, b Injector, goal string, met func(float64) bool) {
		ra, oka := by[a]
		rb, okb := by[b]
		if !oka || !okb || rb.Took <= 0 {
			return
		}
		t := ratio(ra.Took, rb.Took)
		fmt.Fprintf(w, "%-18s time %.2fx%s  bytes %.2fx  peak RSS %.2fx\n", label, t, verdict(goal, met, t),
			float64(ra.Wire.UpdateBytes)/float64(max(rb.Wire.UpdateBytes, 1)), float64(ra.PeakRSS)/float64(max(rb.PeakRSS, 1)))
	}
	line("peerlab/BIRD:", Peerlab, BIRD, fmt.Sprintf("<= %gx", TargetTimeOverBIRD), func(v float64) bool { return v <= TargetTimeOverBIRD })
	line("peerlab-fib/BIRD:", PeerlabFIB, BIRD, fmt.Sprintf("<= %gx", TargetTimeOverBIRD), func(v float64) bool { return v <= TargetTimeOverBIRD })
	line("ExaBGP/peerlab:", ExaBGP, Peerlab, fmt.Sprintf(">= %gx", float64(TargetExaBGPOverTime)), func(v float64) bool { return v >= TargetExaBGPOverTime })
	line("gobgp/peerlab:", GoBGP, Peerlab, "", nil)
	if r, ok := by[Peerlab]; ok {
		b := float64(r.Wire.UpdateBytes) / float64(floor)
		fmt.Fprintf(w, "%-18s %.3f%s\n", "peerlab bytes/floor:", b, verdict(fmt.Sprintf("<= %g", TargetBytesOverFloor), func(v float64) bool { return v <= TargetBytesOverFloor }, b))
		if r.TargetMemory > 0 {
			m := float64(r.PeakRSS) / float64(r.TargetMemory)
			fmt.Fprintf(w, "%-18s %.1f MiB / %.1f MiB = %.2fx%s\n", "peerlab RSS/target:", mib(r.PeakRSS), mib(r.TargetMemory), m,
				verdict(fmt.Sprintf("<= %gx", float64(TargetRSSOverTarget)), func(v float64) bool { return v <= TargetRSSOverTarget }, m))
		}
	}
	if r, ok := by[PeerlabLive]; ok && r.FromNLRI > 0 {
		rate, per := float64(r.Reached)/r.FromNLRI.Seconds(), perUpdate(r)
		fmt.Fprintf(w, "%-18s %d routes from the first UPDATE with NLRI to full in %.2f s: %.0f routes/s%s, %.1f prefixes/UPDATE%s\n",
			"peerlab-live:", r.Reached, r.FromNLRI.Seconds(), rate,
			verdict(fmt.Sprintf(">= %d", TargetLiveRate), func(v float64) bool { return v >= TargetLiveRate }, rate), per,
			verdict(fmt.Sprintf(">= %d", TargetLivePerUpdate), func(v float64) bool { return v >= TargetLivePerUpdate }, per))
	}
	return nil
}

// verdict is " (target GOAL: met)" or "... not met", "" without a goal.
func verdict(goal string, met func(float64) bool, v float64) string {
	if goal == "" || met == nil {
		return ""
	}
	if met(v) {
		return " (target " + goal + ": met)"
	}
	return " (target " + goal + ": NOT met)"
}

// perUpdate is the row's prefixes per UPDATE, 0 without UPDATEs.
func perUpdate(r Row) float64 {
	if r.Wire.Updates == 0 {
		return 0
	}
	return float64(r.Wire.Prefixes) / float64(r.Wire.Updates)
}

// mib converts bytes to MiB.
func mib(b int64) float64 { return float64(b) / (1 << 20) }

// ratio is a/b.
func ratio(a, b time.Duration) float64 { return a.Seconds() / b.Seconds() }
