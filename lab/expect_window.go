package lab

import (
	"time"

	"github.com/peerlab/peerlab/lab/topology"
)

// Bases of a verdict: what an expectation was decided on.
const (
	// BasisSeen: the condition was seen (a positive expectation holds, a
	// negative one fails).
	BasisSeen = "seen"
	// BasisHeld: the condition held without a break for the whole `for:`.
	BasisHeld = "held"
	// BasisBroke: the condition was seen, then broke before `for:` ended.
	BasisBroke = "broke"
	// BasisWindowEnded: the window ended without the condition (a
	// positive expectation fails, a negative one holds).
	BasisWindowEnded = "window-ended"
	// BasisAnchorFailed: the fault the window counts from was not
	// injected or healed.
	BasisAnchorFailed = "anchor-failed"
	// BasisInterrupted: the run ended before the outcome was known.
	BasisInterrupted = "interrupted"
)

// judge decides one expectation from samples of its condition, all timed
// from lab start. It is pure logic: the samples come from the observers.
type judge struct {
	negative bool
	// start and end bound the window in which the condition must be
	// seen (positive) or must not be (negative); hold is `for:`.
	start, end, hold time.Duration
	holding          bool
	heldFrom         time.Duration
}

// newJudge returns the judge of e whose window starts at start.
func newJudge(e *topology.Expectation, start time.Duration) *judge {
	return &judge{negative: e.Kind.Negative(), start: start, end: start + e.Within, hold: e.For}
}

// step takes one sample: whether the condition was seen at now (when the
// observation began). It returns whether the expectation is decided, and
// then whether it holds and on what.
func (j *judge) step(now time.Duration, seen bool) (done, ok bool, basis string) {
	switch {
	case now < j.start:
		return false, false, ""
	case j.negative && now >= j.end:
		return true, true, BasisWindowEnded
	case j.negative && seen:
		return true, false, BasisSeen
	case j.negative:
		return false, false, ""
	case j.holding && !seen:
		return true, false, BasisBroke
	case j.holding && now-j.heldFrom >= j.hold:
		return true, true, BasisHeld
	case j.holding:
		return false, false, ""
	case now > j.end:
		return true, false, BasisWindowEnded
	case seen && j.hold == 0:
		return true, true, BasisSeen
	case seen:
		j.holding, j.heldFrom = true, now
		return false, false, ""
	case now == j.end:
		return true, false, BasisWindowEnded
	}
	return false, false, ""
}
