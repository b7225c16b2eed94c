package capture

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata captures and golden timelines")

// TestScenarioCaptures checks that each committed capture is what its
// scenario generates (or rewrites it with -update) and that its timeline
// shows the expected events in order.
func TestScenarioCaptures(t *testing.T) {
	for _, sc := range scenarios {
		t.Run(sc.file, func(t *testing.T) {
			b := newPcapBuilder(t, sc.ng)
			sc.build(b)
			path := filepath.Join("testdata", sc.file)
			if *update {
				if err := os.WriteFile(path, b.bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			committed, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(committed, b.bytes()) {
				t.Fatalf("%s differs from what its scenario generates; run go test -update", path)
			}
			tl, err := Decode(bytes.NewReader(committed), DecodeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(tl.Sessions) != 1 {
				t.Fatalf("got %d sessions, want 1", len(tl.Sessions))
			}
			var got []Kind
			for _, e := range tl.Sessions[0].Events {
				got = append(got, e.Kind)
			}
			if !slices.Equal(got, sc.kinds) {
				t.Errorf("event kinds\n got %v\nwant %v", got, sc.kinds)
			}
		})
	}
}

// TestGoldenTimelines renders every committed capture as text and JSON and
// compares with testdata/golden (rewritten with -update).
func TestGoldenTimelines(t *testing.T) {
	var files []string
	for _, pat := range []string{"testdata/*.pcap", "testdata/*.pcapng"} {
		m, err := filepath.Glob(pat)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Fatal("no captures found under testdata/")
	}
	for _, f := range files {
		for _, format := range []string{"text", "json"} {
			name := filepath.Base(f) + "." + format
			t.Run(name, func(t *testing.T) {
				in, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				tl, err := Decode(bytes.NewReader(in), DecodeOptions{})
				if err != nil {
					t.Fatal(err)
				}
				var out bytes.Buffer
				if err := Render(&out, tl, format); err != nil {
					t.Fatal(err)
				}
				golden := filepath.Join("testdata", "golden", name)
				if *update {
					if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run with -update to create it)", err)
				}
				if !bytes.Equal(out.Bytes(), want) {
					t.Errorf("%s differs from golden %s; got:\n%s", f, golden, out.String())
				}
			})
		}
	}
}
