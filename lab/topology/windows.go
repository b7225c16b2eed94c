package topology

import (
	"math"
	"slices"
	"time"
)

// windowIndex finds, among the time windows [start, end) added so far, the
// earliest added one that overlaps a given window, in logarithmic time. Its
// times must be among the coordinates it was made with. The fault overlap
// check uses one per fault kind, node and peer, so that a long list of
// faults is checked in O(n log n) rather than against every earlier fault.
type windowIndex struct {
	coords []time.Duration // sorted, unique
	n      int
	// starts[n+i] is the first window starting at coords[i]; inner nodes
	// hold the minimum of their children.
	starts []int
	// covers holds, along each leaf's path to the root, the windows whose
	// start is before the leaf's coordinate and whose end after it.
	covers []int
}

// noWindow marks an empty slot.
const noWindow = math.MaxInt

// newWindowIndex returns an index over the times in coords (any order,
// repeats allowed).
func newWindowIndex(coords []time.Duration) *windowIndex {
	coords = slices.Compact(slices.Sorted(slices.Values(coords)))
	n := max(len(coords), 1)
	w := &windowIndex{coords: coords, n: n, starts: make([]int, 2*n), covers: make([]int, 2*n)}
	for i := range w.starts {
		w.starts[i], w.covers[i] = noWindow, noWindow
	}
	return w
}

// pos returns the position of t among the coordinates and whether it is one.
func (w *windowIndex) pos(t time.Duration) (int, bool) {
	return slices.BinarySearch(w.coords, t)
}

// holds reports whether t is one of the index's coordinates.
func (w *windowIndex) holds(t time.Duration) bool {
	_, ok := w.pos(t)
	return ok
}

// add records window id over [start, end); start < end, both coordinates.
func (w *windowIndex) add(id int, start, end time.Duration) {
	s, _ := w.pos(start)
	e, _ := w.pos(end)
	for i := s + w.n; i > 0; i >>= 1 {
		w.starts[i] = min(w.starts[i], id)
	}
	// Coordinates strictly between start and end: s+1 .. e-1.
	for l, r := s+1+w.n, e+w.n; l < r; l, r = l>>1, r>>1 {
		if l&1 == 1 {
			w.covers[l] = min(w.covers[l], id)
			l++
		}
		if r&1 == 1 {
			r--
			w.covers[r] = min(w.covers[r], id)
		}
	}
}

// first returns the earliest window overlapping [start, end), or -1. A
// window overlaps when it starts in [start, end) or starts before start and
// ends after it.
func (w *windowIndex) first(start, end time.Duration) int {
	s, _ := w.pos(start)
	e, _ := w.pos(end)
	best := noWindow
	for l, r := s+w.n, e+w.n; l < r; l, r = l>>1, r>>1 {
		if l&1 == 1 {
			best = min(best, w.starts[l])
			l++
		}
		if r&1 == 1 {
			r--
			best = min(best, w.starts[r])
		}
	}
	for i := s + w.n; i > 0; i >>= 1 {
		best = min(best, w.covers[i])
	}
	if best == noWindow {
		return -1
	}
	return best
}
