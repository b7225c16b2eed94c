package bench

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestWriteSoakComparesQuarters checks the report's start-to-end ratios on
// samples whose memory doubles: the figure a leak would show.
func TestWriteSoakComparesQuarters(t *testing.T) {
	var res SoakResult
	for i := range 8 {
		rss := int64(100_000)
		if i >= 6 {
			rss = 200_000
		}
		res.Samples = append(res.Samples, SoakSample{At: time.Duration(i) * time.Second, Cycles: i + 1, RSSKiB: rss, FDs: 10, Threads: 8, Goroutines: 20})
	}
	res.Cycles = 8
	var out bytes.Buffer
	if err := WriteSoak(&out, res); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "rss 2.00, fds 1.00, threads 1.00, goroutines 1.00") {
		t.Fatalf("report:\n%s", out.String())
	}
}
