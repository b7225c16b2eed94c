package topology

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestErrorCap checks that a file with more than maxErrors problems gets
// the first maxErrors by line, whichever check found them and in whatever
// order, then one line saying the loader stopped; a file with fewer gets
// them all and no such line.
func TestErrorCap(t *testing.T) {
	nodes := func(from, to int) string {
		var b strings.Builder
		for i := from; i <= to; i++ {
			fmt.Fprintf(&b, "  n%d: {address: 10.0.%d.%d, bogus: 1}\n", i, i/250, i%250+1)
		}
		return b.String()
	}
	cases := []struct {
		name string
		src  string
		// lines are the lines of the errors reported, in order.
		lines   []int
		stopped bool
		// lastPaths, when set, are the paths of the last errors.
		lastPaths []string
	}{
		{"at the cap", "name: cap\nnodes:\n" + nodes(1, maxErrors), span(3, maxErrors), false, nil},
		{"one past the cap", "name: cap\nnodes:\n" + nodes(1, maxErrors+1), span(3, maxErrors), true, nil},
		// Nodes are decoded in name order (n1, n10, n100, …), not in
		// file order, and the key check runs before the decoder: the
		// upper-case key on line 1 is first, the one at the end is out.
		{"found out of line order", "Name: cap\nnodes:\n" + nodes(1, 2*maxErrors) + "Peerings: []\n",
			append([]int{1}, span(3, maxErrors-1)...), true, nil},
		// Problems on one line are ordered by path, then as found.
		{"ties on the last line kept", "name: cap\nnodes:\n" + nodes(1, maxErrors-2) +
			"  z: {address: 10.9.9.9, bogus: 1, Kind: gobgp, ASN: 1, Timers: {}}\n", append(span(3, maxErrors-2), maxErrors+1, maxErrors+1), true,
			[]string{"nodes.z.ASN", "nodes.z.Kind"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("cap.yaml", []byte(tc.src))
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("want errors, got %v", err)
			}
			_, again := Parse("cap.yaml", []byte(tc.src))
			if again.Error() != err.Error() {
				t.Fatal("two loads of one file report different errors")
			}
			last := list[len(list)-1]
			stopped := strings.Contains(last.Msg, fmt.Sprintf("stopped after the first %d", maxErrors))
			if stopped != tc.stopped {
				t.Fatalf("last line %q, want stopped %t", last.Error(), tc.stopped)
			}
			if stopped {
				if last.Line != 0 || last.Path != "" || last.File != "cap.yaml" {
					t.Fatalf("last line %+v, want the file only", last)
				}
				list = list[:len(list)-1]
			}
			var lines []int
			for _, e := range list {
				lines = append(lines, e.Line)
			}
			if fmt.Sprint(lines) != fmt.Sprint(tc.lines) {
				t.Fatalf("errors at lines %v, want %v:\n%v", lines, tc.lines, err)
			}
			for i, p := range tc.lastPaths {
				if got := list[len(list)-len(tc.lastPaths)+i].Path; got != p {
					t.Errorf("error %d from the end at %s, want %s", len(tc.lastPaths)-i, got, p)
				}
			}
		})
	}
}

// span returns from, from+1, … for n numbers.
func span(from, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = from + i
	}
	return out
}
