package topology

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestSharedValues checks that a value merged or aliased into many places
// (decoded once when it decodes without a problem) gives every place the
// same value, and that a problem in it is still reported at every place
// that uses it.
func TestSharedValues(t *testing.T) {
	cases := []struct {
		name string
		src  string
		// hold is each node's hold time when the file is valid.
		hold map[string]time.Duration
		// errs are the paths with an error when it is not.
		errs []string
	}{
		{"merged timers", "name: s\nx-n: &n {timers: {hold: 30s}}\nnodes:\n" +
			"  a: {<<: *n, address: 10.0.0.1}\n  b: {<<: *n, address: 10.0.0.2}\n  c: {address: 10.0.0.3, timers: {hold: 60s}}\n",
			map[string]time.Duration{"a": 30 * time.Second, "b": 30 * time.Second, "c": 60 * time.Second}, nil},
		{"aliased timers", "name: s\nx-t: &t {hold: 90s}\nnodes:\n" +
			"  a: {address: 10.0.0.1, timers: *t}\n  b: {address: 10.0.0.2, timers: *t}\n",
			map[string]time.Duration{"a": 90 * time.Second, "b": 90 * time.Second}, nil},
		{"merged bad number", "name: s\nx-n: &n {asn: many}\nnodes:\n" +
			"  a: {<<: *n, address: 10.0.0.1}\n  b: {<<: *n, address: 10.0.0.2}\n",
			nil, []string{"nodes.a.asn", "nodes.b.asn"}},
		{"merged bad timer", "name: s\nx-n: &n {timers: {hold: 1s}}\nnodes:\n" +
			"  a: {<<: *n, address: 10.0.0.1}\n  b: {<<: *n, address: 10.0.0.2}\n",
			nil, []string{"nodes.a.timers.hold", "nodes.b.timers.hold"}},
		{"aliased bad timer key", "name: s\nx-t: &t {hold: 30s, bogus: 1}\nnodes:\n" +
			"  a: {address: 10.0.0.1, timers: *t}\n  b: {address: 10.0.0.2, timers: *t}\n",
			nil, []string{"nodes.a.timers.bogus", "nodes.b.timers.bogus"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			topo, err := Parse("shared.yaml", []byte(tc.src))
			if tc.errs != nil {
				var list ErrorList
				if !errors.As(err, &list) {
					t.Fatalf("want errors at %v, got %v", tc.errs, err)
				}
				var paths []string
				for _, e := range list {
					paths = append(paths, e.Path)
				}
				if strings.Join(paths, " ") != strings.Join(tc.errs, " ") {
					t.Fatalf("errors at %v, want %v:\n%v", paths, tc.errs, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range topo.Nodes {
				if n.Timers.Hold != tc.hold[n.Name] {
					t.Errorf("node %s: hold %s, want %s", n.Name, n.Timers.Hold, tc.hold[n.Name])
				}
			}
		})
	}
}
