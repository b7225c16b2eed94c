package bird

import "testing"

func TestParseMemoryTotal(t *testing.T) {
	tests := []struct {
		name, text string
		want       int64
		wantErr    bool
	}{
		{"bird 1.6", "BIRD memory usage\nRouting tables:     104 MB\nRoute attributes:    38 kB\nROA tables:         192  B\nProtocols:           52 kB\nTotal:              105 MB\n", 105 << 20, false},
		{"bird 2 effective column", "BIRD memory usage\n                  Effective    Overhead\nRouting tables:      8 MB       1 MB\nTotal:              10 MB       2 MB\n", 10 << 20, false},
		{"kB", "Total: 512 kB", 512 << 10, false},
		{"no total", "BIRD memory usage\nRouting tables: 1 MB\n", 0, true},
		{"unknown unit", "Total: 3 TB", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseMemoryTotal(tc.text)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("ParseMemoryTotal = %d, %v; want %d (error %v)", got, err, tc.want, tc.wantErr)
			}
		})
	}
}
