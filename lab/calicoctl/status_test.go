package calicoctl

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// reply is a captured BIRD reply with a no-op read deadline.
type reply struct{ *bytes.Reader }

func (reply) SetReadDeadline(time.Time) error { return nil }

// TestNodeStatusGolden renders `calicoctl node status`'s BGP table from
// "show protocols" replies captured from real BIRD 1.6.8 and BIRD 2.0.12
// daemons of a lab (testdata/*.txt, greeting included). BIRD 2's
// capitalised headings make calicoctl fail, as the real one does.
func TestNodeStatusGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no captured replies in testdata: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			out.WriteString("IPv4 BGP status\n")
			if err := printReply(&out, "4", reply{bytes.NewReader(raw)}); err != nil {
				out.WriteString("error: " + err.Error() + "\n")
			}
			golden := strings.TrimSuffix(f, ".txt") + ".golden"
			if *update {
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if out.String() != string(want) {
				t.Errorf("got\n%s\nwant\n%s", out.String(), want)
			}
		})
	}
}

func TestWrapString(t *testing.T) {
	tests := []struct {
		in   string
		lim  int
		want []string
	}{
		{"Established", 30, []string{"Established"}},
		{"Passive Socket: Connection reset by peer", 30, []string{"Passive Socket: Connection", "reset by peer"}},
		{"Active Socket: Connection refused", 30, []string{"Active Socket: Connection", "refused"}},
		// Minimal raggedness, not greedy: greedy gives "aaa bb", "cc", "ddddd".
		{"aaa bb cc ddddd", 6, []string{"aaa", "bb cc", "ddddd"}},
		{"averyveryveryveryverylongwordofthirtyfive x", 30, []string{"averyveryveryveryverylongwordofthirtyfive", "x"}},
	}
	for _, tc := range tests {
		got := wrapString(tc.in, tc.lim)
		if strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("wrapString(%q, %d) = %q, want %q", tc.in, tc.lim, got, tc.want)
		}
	}
}

func TestPsContains(t *testing.T) {
	procs := [][]string{{"peerlab-init", "worker1"}, {"calico-node", "-confd"}, {"bird", "-f", "-c", "x"}}
	for _, tc := range []struct {
		want []string
		ok   bool
	}{
		{[]string{"calico-node", "-felix"}, true}, // calicoctl's loose rule: argv[0] alone matches
		{[]string{"calico-felix"}, false},
		{[]string{"bird"}, true},
		{[]string{"bird6"}, false},
	} {
		if got := psContains(procs, tc.want...); got != tc.ok {
			t.Errorf("psContains(%v) = %v, want %v", tc.want, got, tc.ok)
		}
	}
}
