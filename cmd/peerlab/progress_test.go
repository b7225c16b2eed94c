package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestProgress shows progress only when on, only after progressDelay, at
// most every progressEvery, and clears its line at the end.
func TestProgress(t *testing.T) {
	cases := []struct {
		name  string
		on    bool
		steps []time.Duration // time of each Printf since the start
		want  []string        // lines written, in order
	}{
		{"off (not a terminal, or -o json)", false, []time.Duration{2 * time.Second, 3 * time.Second}, nil},
		{"quick command prints nothing", true, []time.Duration{100 * time.Millisecond, 900 * time.Millisecond}, nil},
		{"long command, throttled", true, []time.Duration{1100 * time.Millisecond, 1200 * time.Millisecond, 1400 * time.Millisecond},
			[]string{"step 0 (1s)", "step 2 (1s)"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Unix(1000, 0)
			now := start
			var buf bytes.Buffer
			p := newProgressTo(&buf, c.on, func() time.Time { return now })
			for i, d := range c.steps {
				now = start.Add(d)
				p.Printf("step %d", i)
			}
			p.Done()
			var got []string
			for _, part := range strings.Split(buf.String(), "\r\033[K") {
				if part != "" {
					got = append(got, part)
				}
			}
			if strings.Join(got, "|") != strings.Join(c.want, "|") {
				t.Errorf("wrote %q, want lines %q", buf.String(), c.want)
			}
			if len(c.want) > 0 && !strings.HasSuffix(buf.String(), "\r\033[K") {
				t.Errorf("the progress line is not cleared at the end: %q", buf.String())
			}
		})
	}
}
