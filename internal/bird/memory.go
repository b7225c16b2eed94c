package bird

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseMemoryTotal reads the "Total:" line of BIRD's `show memory` and
// returns it in bytes: "Total: 105 MB" (BIRD 1.6) or, with BIRD 2's
// effective and overhead columns, "Total: 10 MB 2 MB" (the first, the
// effective size, is taken). Units are B, kB, MB and GB, powers of 1024.
func ParseMemoryTotal(text string) (int64, error) {
	for _, line := range strings.Split(text, "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "Total:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) < 2 {
			return 0, fmt.Errorf("show memory: total %q: want a number and a unit", rest)
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			return 0, fmt.Errorf("show memory: total %q: %w", rest, err)
		}
		unit := map[string]float64{"B": 1, "kB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30}[f[1]]
		if unit == 0 {
			return 0, fmt.Errorf("show memory: total %q: unknown unit %q", rest, f[1])
		}
		return int64(v * unit), nil
	}
	return 0, fmt.Errorf("show memory: no Total: line in %q", text)
}
