package bench

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestParseInjectors(t *testing.T) {
	tests := []struct {
		in      []string
		want    []Injector
		wantErr string
	}{
		{nil, nil, ""},
		{[]string{"gobgp", "peerlab"}, []Injector{GoBGP, Peerlab}, ""},
		{[]string{"peerlab-live"}, []Injector{PeerlabLive}, ""},
		{[]string{"frr"}, nil, `injector "frr"`},
		{[]string{"bird", "bird"}, nil, "listed twice"},
	}
	for _, tc := range tests {
		got, err := ParseInjectors(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseInjectors(%v) = %v, want an error mentioning %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || len(got) != len(tc.want) {
			t.Errorf("ParseInjectors(%v) = %v, %v; want %v", tc.in, got, err, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("ParseInjectors(%v) = %v, want %v", tc.in, got, tc.want)
			}
		}
	}
}

// TestRenderVerdicts renders made-up rows, one target met and one not of
// each kind, and checks the ratio lines say so.
func TestRenderVerdicts(t *testing.T) {
	const n = 100000
	row := func(inj Injector, took, fromNLRI time.Duration, updates int, bytes, rss, target int64) Row {
		return Row{Injector: inj, Reached: n, Took: took, FromNLRI: fromNLRI, PeakRSS: rss, TargetMemory: target,
			Wire: Wire{Updates: updates, UpdateBytes: bytes, Prefixes: n}}
	}
	rows := []Row{
		row(Peerlab, 200*time.Millisecond, 150*time.Millisecond, 99, FloorBytes(n), 30<<20, 12<<20),
		row(PeerlabLive, 300*time.Millisecond, 500*time.Millisecond, 400, FloorBytes(n)*2, 30<<20, 12<<20), // 200,000 routes/s, 250 per UPDATE
		row(BIRD, 100*time.Millisecond, 80*time.Millisecond, 392, 416836, 24<<20, 12<<20),
		row(ExaBGP, 25*time.Second, 24*time.Second, 2000, 485980, 74<<20, 12<<20),
	}
	rows[1].Wire.Gaps = 1
	var out bytes.Buffer
	if err := Render(&out, n, "bird", rows); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"peerlab-live: the capture lost segments (1 gaps)",
		"time 2.00x (target <= 1.5x: NOT met)", // peerlab/BIRD
		"time 125.00x (target >= 20x: met)",    // ExaBGP/peerlab
		"1.000 (target <= 1.1: met)",           // bytes/floor
		"= 2.50x (target <= 3x: met)",          // RSS / target memory
		"200000 routes/s (target >= 100000: met)",
		"250.0 prefixes/UPDATE (target >= 500: NOT met)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("render lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "gobgp/peerlab") {
		t.Errorf("render has a gobgp line without a gobgp row:\n%s", out.String())
	}
}
