package topology

import (
	"errors"
	"strings"
	"testing"
)

// TestNestingLimit checks that flow collections are refused past
// maxNesting levels, at the line where the limit is passed, and that
// brackets that open no collection (in scalars and comments) never count.
func TestNestingLimit(t *testing.T) {
	const valid = "name: deep\nnodes:\n  a: {kind: gobgp, asn: 65001, address: 10.0.0.1}\n"
	open, shut := strings.Repeat("[", maxNesting), strings.Repeat("]", maxNesting)
	cases := []struct {
		name string
		src  string
		line int // 0: accepted
	}{
		{"at the limit", valid + "x-deep: " + open + shut + "\n", 0},
		{"past the limit", valid + "x-deep: " + open + "[]" + shut + "\n", 4},
		{"past the limit on a later line", valid + "x-deep: " + open + "\n  [1]\n  " + shut + "\n", 5},
		{"mappings past the limit", valid + "x-deep: " + strings.Repeat("{a: ", maxNesting+1) + strings.Repeat("}", maxNesting+1) + "\n", 4},
		{"below block nesting", valid + "x-deep:\n  a:\n    b:\n      - " + open + "[]" + shut + "\n", 7},
		{"in a block scalar", valid + "x-note: |\n  " + open + "[\n", 0},
		{"in a plain scalar", valid + "x-note: a" + open + "[\n", 0},
		{"in a quoted scalar", valid + "x-note: '" + open + "['\n", 0},
		{"in a comment", valid + "# " + open + "[\n", 0},
		{"after an apostrophe in a plain scalar", "name: deep\nx-note: don't\nx-deep: " + open + "[]" + shut + "\nnodes:\n  a: {address: 10.0.0.1}\n", 3},
		{"past yaml's own limit", valid + "x-deep: " + strings.Repeat("[", 20_000) + strings.Repeat("]", 20_000) + "\n", 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("deep.yaml", []byte(tc.src))
			if tc.line == 0 {
				if err != nil {
					t.Fatalf("refused: %.500v", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("want an error at line %d, got %v", tc.line, err)
			}
			if e.Line != tc.line || !strings.Contains(e.Msg, "nested more than") {
				t.Fatalf("error %q at line %d, want nesting refused at line %d", e.Msg, e.Line, tc.line)
			}
		})
	}
}
