package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestServeRefusesBadHostLogLimits checks that serve refuses, as a usage
// error naming the flag, host log limits that cannot work, from flags and
// from a config file alike.
func TestServeRefusesBadHostLogLimits(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "peerlab.yaml")
	writeFile(t, cfg, "host-log-keep: -2\n")
	for _, tc := range []struct {
		name     string
		args     []string
		contains string
	}{
		{"zero size", []string{"serve", "--host-log-max-size", "0"}, "--host-log-max-size 0: give 1 to"},
		{"negative keep", []string{"serve", "--host-log-keep", "-1"}, "--host-log-keep -1: must not be negative"},
		{"config file", []string{"serve", "--config", cfg}, "--host-log-keep -2: must not be negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(tc.args, "--state-dir", filepath.Join(dir, "state"))
			_, errOut, code := runCLI(t, args...)
			if code != exitUsage || !strings.Contains(errOut, tc.contains) {
				t.Errorf("exit %d, stderr %q; want exit %d naming %q", code, errOut, exitUsage, tc.contains)
			}
		})
	}
}
