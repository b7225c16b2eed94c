package labname

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	cases := []struct {
		name, why string
	}{
		{"calico-mesh", ""},
		{"a", ""},
		{"ex1-2", ""},
		{"", "empty"},
		{"a--b", `"--"`},
		{"calico-", `end with "-"`},
		{"1lab", "start with"},
		{"Lab", "start with"},
		{"lab_x", "'_'"},
		{"lab.x", "'.'"},
		{strings.Repeat("a", MaxLen+1), "limit is 32"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Check(tc.name)
			if (tc.why == "") != (got == "") || !strings.Contains(got, tc.why) {
				t.Fatalf("Check(%q) = %q, want %q", tc.name, got, tc.why)
			}
		})
	}
}
