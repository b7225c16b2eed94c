package topology

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/peerlab/peerlab/internal/userfile"
)

// TestHostileInput checks that inputs built to make the loader work without
// end, or to echo huge values, get a short, clear error instead.
func TestHostileInput(t *testing.T) {
	bomb := "name: bomb\nx-a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g", "h", "i"} {
		bomb += fmt.Sprintf("x-%s: &%s [*%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s]\n", n, n, prev, prev, prev, prev, prev, prev, prev, prev, prev, prev)
		prev = n
	}
	bomb += "nodes:\n  n1: {kind: gobgp, asn: 65001, address: 10.0.0.1, x: *i}\n"

	var many strings.Builder
	many.WriteString("name: many\nnodes:\n")
	for i := range 300 {
		fmt.Fprintf(&many, "  n%d: {kind: gobgp, asn: 65001, address: 10.0.0.1, bogus: 1}\n", i)
	}

	cases := []struct {
		name   string
		data   string
		inMsg  string
		maxLen int // the error text stays under this many bytes
	}{
		{"huge name", "name: " + strings.Repeat("a", 2<<20) + "\nnodes:\n  n1: {kind: gobgp, asn: 65001, address: 10.0.0.1}\n", "more bytes)", 2048},
		{"huge value", "name: k\nnodes:\n  n1: {kind: gobgp, address: 10.0.0.1, asn: \"" + strings.Repeat("9x", 1<<20) + "\"}\n", "more bytes)", 4096},
		{"deep nesting", "name: deep\nx-deep: " + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + "\nnodes: {}\n", "nested more than 64 levels", 512},
		{"alias bomb", bomb, "through aliases", 512},
		{"deep block nesting", "name: deep\nx-deep:\n  " + strings.Repeat("- ", 5000) + "x\nnodes: {}\n", "nested more than 128 levels", 512},
		{"long key", "name: k\n? " + strings.Repeat("k", 5000) + "\n: 1\nnodes: {}\n", "a key is 5000 bytes long, the limit is 1024", 512},
		{"many errors", many.String(), "more errors", 100 * 1024},
		{"over the size limit", "name: big\n# " + strings.Repeat("x", MaxSize) + "\n", "the limit is", 512},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("hostile.yaml", []byte(tc.data))
			if err == nil {
				t.Fatal("Parse accepted hostile input")
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.inMsg) {
				t.Fatalf("error does not say %q:\n%.2000s", tc.inMsg, msg)
			}
			if len(msg) > tc.maxLen {
				t.Fatalf("error is %d bytes, want at most %d:\n%.2000s", len(msg), tc.maxLen, msg)
			}
			if !strings.HasPrefix(msg, "hostile.yaml") {
				t.Fatalf("error does not name the file: %.300s", msg)
			}
		})
	}
}

func TestLoadRefusesDevices(t *testing.T) {
	_, err := Load("/dev/zero")
	if !errors.Is(err, userfile.ErrNotRegular) {
		t.Fatalf("Load(/dev/zero) = %v, want ErrNotRegular", err)
	}
	if !strings.Contains(err.Error(), "/dev/zero") {
		t.Fatalf("error does not name the path: %v", err)
	}
}

// TestMergeKeys checks that merge keys and aliases still work after the
// loader stopped going through viper.
func TestMergeKeys(t *testing.T) {
	src := `name: merge
x-base: &base {kind: gobgp, asn: 65001}
nodes:
  n1: {<<: *base, address: 10.0.0.1}
  n2:
    <<: *base
    asn: 65002
    address: 10.0.0.2
peerings:
  - between: [n1, n2]
`
	topo, err := Parse("merge.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]uint32{}
	for _, n := range topo.Nodes {
		got[n.Name] = n.ASN
	}
	if got["n1"] != 65001 || got["n2"] != 65002 {
		t.Fatalf("ASNs = %v, want n1 65001 (merged) and n2 65002 (explicit key wins)", got)
	}
}

func TestAliasCycleRefused(t *testing.T) {
	_, err := Parse("cycle.yaml", []byte("name: c\nnodes: &n {n1: *n}\n"))
	if err == nil {
		t.Fatal("a self-referring alias was accepted")
	}
}
