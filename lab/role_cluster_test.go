package lab

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestLastVerdict(t *testing.T) {
	const msg = "calico/node is not ready: BIRD is not ready: BGP not established with 10.0.0.2"
	tests := []struct {
		name, log string
		ok        bool
		at        string
	}{
		{"last line is msg", "2026-12-06 01:49:59.336 calico/node is ready\n2026-12-06 01:50:01.334 " + msg + "\n", true, "2026-12-06T01:50:01.334Z"},
		{"last line is another verdict", "2026-12-06 01:50:01.334 " + msg + "\n2026-12-06 01:50:05.000 calico/node is ready\n", false, ""},
		{"empty", "", false, ""},
		{"garbage", "not a verdict\n", false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "readiness.log")
			if err := os.WriteFile(p, []byte(tc.log), 0o644); err != nil {
				t.Fatal(err)
			}
			at, ok := lastVerdict(p, msg)
			if ok != tc.ok || (ok && at.Format(time.RFC3339Nano) != tc.at) {
				t.Errorf("lastVerdict = %v, %v; want %v, %s", at.Format(time.RFC3339Nano), ok, tc.ok, tc.at)
			}
		})
	}
	if _, ok := lastVerdict(filepath.Join(t.TempDir(), "missing"), msg); ok {
		t.Error("a missing log gave a verdict")
	}
}
