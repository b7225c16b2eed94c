package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestStatusAt checks status --at: the report shows the lab at least that
// long after its start (waiting for it when the lab is younger, at once
// when it is older), and a negative time is a usage error.
func TestStatusAt(t *testing.T) {
	requireRoot(t)
	e := newLabEnv(t)
	file, name := e.topology("quickstart.yaml", "at", "")
	e.mustRun(time.Minute, "up", "-d", file)
	for _, tc := range []struct {
		at   string
		code int
		// atLeastMS is the youngest the reported lab may be.
		atLeastMS int64
		stderr    string
	}{
		{at: "4s", atLeastMS: 4000},
		{at: "1s", atLeastMS: 4000}, // already past: the lab as it is now
		{at: "-1s", code: 2, stderr: "--at: -1s is before the lab started"},
	} {
		t.Run(tc.at, func(t *testing.T) {
			r := e.run(time.Minute, "status", name, "--at", tc.at, "-o", "json")
			if r.code != tc.code {
				t.Fatalf("status --at %s: exit %d, want %d; stderr: %s", tc.at, r.code, tc.code, r.stderr)
			}
			if tc.code != 0 {
				if !strings.Contains(r.stderr, tc.stderr) {
					t.Errorf("status --at %s says %q, want it to say %q", tc.at, r.stderr, tc.stderr)
				}
				return
			}
			var rep jsonReport
			if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
				t.Fatalf("status --at %s -o json: %v\n%s", tc.at, err, r.stdout)
			}
			if rep.ElapsedMS < tc.atLeastMS {
				t.Errorf("status --at %s reports the lab at %d ms, want at least %d ms", tc.at, rep.ElapsedMS, tc.atLeastMS)
			}
		})
	}
	e.mustRun(time.Minute, "down", name)
}
