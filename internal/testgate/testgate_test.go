package testgate

import (
	"fmt"
	"strings"
	"testing"
)

// recorder is a testing.TB that records Fatalf and Skipf instead of
// ending the test.
type recorder struct {
	testing.TB
	fatal, skip string
}

func (r *recorder) Helper()                        {}
func (r *recorder) Fatalf(format string, a ...any) { r.fatal = fmt.Sprintf(format, a...) }
func (r *recorder) Skipf(format string, a ...any)  { r.skip = fmt.Sprintf(format, a...) }

// TestSkipOrFail checks the rule: skip outside CI, fail with CI=true
// (and only "true"), with the message in both.
func TestSkipOrFail(t *testing.T) {
	for _, tc := range []struct {
		ci       string
		wantFail bool
	}{
		{"true", true},
		{"", false},
		{"false", false},
		{"1", false},
	} {
		t.Run("CI="+tc.ci, func(t *testing.T) {
			t.Setenv("CI", tc.ci)
			r := &recorder{}
			SkipOrFail(r, "needs %s", "bird")
			got, other := r.skip, r.fatal
			if tc.wantFail {
				got, other = r.fatal, r.skip
			}
			if !strings.Contains(got, "needs bird") || other != "" {
				t.Errorf("fatal %q, skip %q; want only the %s, naming what is needed",
					r.fatal, r.skip, map[bool]string{true: "failure", false: "skip"}[tc.wantFail])
			}
		})
	}
}

// TestRequire checks that Require names every missing program and
// passes when nothing is missing.
func TestRequire(t *testing.T) {
	t.Setenv("CI", "true")
	r := &recorder{}
	Require(r, false, "sh", "peerlab-no-such-program-a", "/no/such/program-b")
	if want := "needs peerlab-no-such-program-a, /no/such/program-b"; !strings.Contains(r.fatal, want) {
		t.Errorf("fatal %q, want it to say %q", r.fatal, want)
	}
	r = &recorder{}
	Require(r, false, "sh")
	if r.fatal != "" || r.skip != "" {
		t.Errorf("nothing missing, yet fatal %q skip %q", r.fatal, r.skip)
	}
}
