package topology

import (
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"
)

// TestWindowIndex checks windowIndex against a scan of every earlier
// window on random schedules, including windows that never end.
func TestWindowIndex(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		type win struct{ start, end time.Duration }
		var wins []win
		var coords []time.Duration
		for range 1 + rng.IntN(40) {
			s := time.Duration(rng.IntN(30)) * time.Second
			e := forever
			if rng.IntN(4) > 0 {
				e = s + time.Duration(1+rng.IntN(10))*time.Second
			}
			wins = append(wins, win{s, e})
			coords = append(coords, s, e)
		}
		w := newWindowIndex(coords)
		for i, q := range wins {
			want := -1
			for j, p := range wins[:i] {
				if p.start < q.end && q.start < p.end {
					want = j
					break
				}
			}
			if got := w.first(q.start, q.end); got != want {
				t.Fatalf("round %d: window %d [%v, %v): first = %d, want %d (windows %v)", round, i, q.start, q.end, got, want, wins[:i+1])
			}
			w.add(i, q.start, q.end)
		}
	}
}

// TestSubnetIndex checks subnetIndex against netip.Prefix.Overlaps over
// every earlier prefix, on random IPv4 and IPv6 prefixes that often nest.
func TestSubnetIndex(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for round := range 200 {
		var prefixes []netip.Prefix
		x := newSubnetIndex()
		for i := range 1 + rng.IntN(60) {
			var p netip.Prefix
			if rng.IntN(3) == 0 {
				a := netip.AddrFrom16([16]byte{0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, byte(rng.IntN(4)), byte(rng.IntN(256))})
				p = netip.PrefixFrom(a, 110+rng.IntN(19)).Masked()
			} else {
				a := netip.AddrFrom4([4]byte{10, 0, byte(rng.IntN(4)), byte(rng.IntN(256))})
				p = netip.PrefixFrom(a, 20+rng.IntN(13)).Masked()
			}
			want := -1
			for j, q := range prefixes {
				if q.Overlaps(p) {
					want = j
					break
				}
			}
			if got := x.first(p); got != want {
				t.Fatalf("round %d: prefix %d %v: first = %d, want %d (prefixes %v)", round, i, p, got, want, prefixes)
			}
			x.add(i, p)
			prefixes = append(prefixes, p)
		}
	}
}
