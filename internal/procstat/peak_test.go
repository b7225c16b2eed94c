package procstat

import (
	"strings"
	"testing"
)

func TestParseVmHWM(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       int64
		wantErr    bool
	}{
		{"kB line", "Name:\tx\nVmPeak:\t  10 kB\nVmHWM:\t    2048 kB\nVmRSS:\t 1 kB\n", 2048 << 10, false},
		{"no line (kernel thread)", "Name:\tkthreadd\nState:\tS\n", 0, true},
		{"odd unit", "VmHWM:\t 12 MB\n", 0, true},
		{"not a number", "VmHWM:\t x kB\n", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseVmHWM(strings.NewReader(tc.text))
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("ParseVmHWM = %d, %v; want %d (error %v)", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestPeakRSSOfSelf(t *testing.T) {
	n, err := PeakRSS(Self)
	if err != nil || n <= 0 {
		t.Fatalf("PeakRSS(Self) = %d, %v; want a positive size", n, err)
	}
}
