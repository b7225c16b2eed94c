// Package testgate owns the project's one rule for tests that need what a
// host may lack (root, a daemon, a tool): outside CI such a test is
// skipped, saying what it needs; with CI=true it fails instead, so CI never
// skips a test silently. Only tests import it.
package testgate

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// InCI reports whether the tests run in CI (CI=true), where nothing may
// be skipped.
func InCI() bool { return os.Getenv("CI") == "true" }

// SkipOrFail skips tb outside CI and fails it with CI=true, with the
// message format and args say (what the test needs and lacks).
func SkipOrFail(tb testing.TB, format string, args ...any) {
	tb.Helper()
	msg := fmt.Sprintf(format, args...)
	if InCI() {
		tb.Fatalf("CI=true, so this is a failure, not a skip: %s", msg)
		return
	}
	tb.Skipf("skipped outside CI (CI=true makes this a failure): %s", msg)
}

// RequireRoot skips or fails (SkipOrFail) tb when not run as root; why
// says what root is needed for ("network namespaces").
func RequireRoot(tb testing.TB, why string) {
	tb.Helper()
	if os.Geteuid() != 0 {
		SkipOrFail(tb, "needs root (%s)", why)
	}
}

// Require skips or fails (SkipOrFail) tb when root (with needRoot) or any
// of the programs (names looked up on PATH, or paths) is missing, naming
// all that are.
func Require(tb testing.TB, needRoot bool, programs ...string) {
	tb.Helper()
	if missing := Missing(needRoot, programs...); len(missing) > 0 {
		SkipOrFail(tb, "needs %s", strings.Join(missing, ", "))
	}
}

// Missing lists what of root (with needRoot) and the programs this host
// lacks: "root" first, then each program exec.LookPath does not find.
func Missing(needRoot bool, programs ...string) []string {
	var missing []string
	if needRoot && os.Geteuid() != 0 {
		missing = append(missing, "root")
	}
	for _, p := range programs {
		if _, err := exec.LookPath(p); err != nil {
			missing = append(missing, p)
		}
	}
	return missing
}
