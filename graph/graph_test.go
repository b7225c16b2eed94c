package graph

import (
	"bytes"
	"encoding/xml"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/peerlab/peerlab/lab/topology"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run with -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run with -update to accept):\n%s", name, got)
	}
}

// load reads a shipped topology.
func load(t *testing.T, name string) *Graph {
	t.Helper()
	topo, err := topology.Load(filepath.Join("..", "topologies", name))
	if err != nil {
		t.Fatal(err)
	}
	return FromTopology(topo)
}

// running is the kubespray topology with the states its report shows after the fault.
func running(t *testing.T) *Graph {
	g := load(t, "kubespray-nginx-proxy-down.yaml")
	g.ApplyStates([]EndState{
		{Local: "master", Remote: "worker1", State: "Passive", LastError: "NOTIFICATION 6/2 Cease / Administrative Shutdown (received)"},
		{Local: "master", Remote: "worker2", State: "Established"},
		{Local: "worker2", Remote: "master", State: "Established"},
		{Local: "worker2", Remote: "worker1", State: "Active", LastError: "Socket: Connection refused"},
	})
	return g
}

func TestGolden(t *testing.T) {
	cases := []struct {
		topo, format, file string
		live               bool
	}{
		{"calico-rr.yaml", "dot", "calico-rr.dot", false},
		{"calico-rr.yaml", "mermaid", "calico-rr.mmd", false},
		{"calico-rr.yaml", "svg", "calico-rr.svg", false},
		{"mixed-rr.yaml", "html", "mixed-rr.html", false},
		{"kubespray-nginx-proxy-down.yaml", "dot", "kubespray-live.dot", true},
		{"kubespray-nginx-proxy-down.yaml", "html", "kubespray-live.html", true},
		{"kubespray-nginx-proxy-down.yaml", "mermaid", "kubespray-live.mmd", true},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			g := load(t, c.topo)
			if c.live {
				g = running(t)
			}
			var buf bytes.Buffer
			if err := Render(&buf, g, c.format); err != nil {
				t.Fatal(err)
			}
			golden(t, c.file, buf.Bytes())
		})
	}
}

// wellFormed fails unless data parses as XML to the end.
func wellFormed(t *testing.T, data []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(data))
	for {
		_, err := d.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v", err)
		}
	}
}

func TestSVGWellFormedForEveryTopology(t *testing.T) {
	files, _ := filepath.Glob("../topologies/*.yaml")
	ex, _ := filepath.Glob("../topologies/exercises/*/topology.yaml")
	files = append(files, ex...)
	if len(files) == 0 {
		t.Fatal("no topologies found")
	}
	for _, f := range files {
		t.Run(filepath.Base(filepath.Dir(f))+"/"+filepath.Base(f), func(t *testing.T) {
			topo, err := topology.Load(f)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := WriteSVG(&buf, FromTopology(topo)); err != nil {
				t.Fatal(err)
			}
			wellFormed(t, buf.Bytes())
		})
	}
	var buf bytes.Buffer
	if err := WriteSVG(&buf, running(t)); err != nil {
		t.Fatal(err)
	}
	wellFormed(t, buf.Bytes())
}

func TestApplyStates(t *testing.T) {
	g := running(t)
	want := map[string]string{"master-worker1": "Passive", "master-worker2": "Established", "worker1-worker2": "Active"}
	for _, e := range g.Edges {
		if got := e.State; got != want[e.A+"-"+e.B] {
			t.Errorf("%s-%s: state %q, want %q", e.A, e.B, got, want[e.A+"-"+e.B])
		}
	}
	if !strings.Contains(g.Edges[0].LastError, "master: NOTIFICATION 6/2") {
		t.Errorf("master-worker1 last error %q lacks master's notification", g.Edges[0].LastError)
	}
}

func TestRenderUnknownFormat(t *testing.T) {
	if err := Render(io.Discard, load(t, "quickstart.yaml"), "png"); err == nil {
		t.Fatal("png accepted")
	}
}

// TestStuckSessionIsDown draws a session that has been connecting for
// longer than StuckAfter as down (red), and a young one as connecting.
func TestStuckSessionIsDown(t *testing.T) {
	cases := []struct {
		name      string
		downFor   time.Duration
		state     string
		wantClass string
		wantLabel string
	}{
		{"just started", 2 * time.Second, "Active", "connecting", "Active"},
		{"minutes without Established", 3*time.Minute + 400*time.Millisecond, "Active", "down", "Active, down 3m0s"},
		{"passive for a while", StuckAfter, "Passive", "down", "Passive, down 30s"},
		{"idle is down at once", time.Second, "Idle", "down", "Idle"},
		{"established", 0, "Established", "up", "Established"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := load(t, "quickstart.yaml")
			a, b := g.Edges[0].A, g.Edges[0].B
			g.ApplyStates([]EndState{
				{Local: a, Remote: b, State: c.state, DownFor: c.downFor},
				{Local: b, Remote: a, State: c.state, DownFor: c.downFor},
			})
			e := g.Edges[0]
			if got := e.Class(); got != c.wantClass {
				t.Errorf("class %q, want %q", got, c.wantClass)
			}
			if got := e.StateLabel(); got != c.wantLabel {
				t.Errorf("label %q, want %q", got, c.wantLabel)
			}
			var buf bytes.Buffer
			if err := WriteDOT(&buf, g); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(buf.String(), stateColor(c.wantClass)) {
				t.Errorf("dot lacks the %s colour %s:\n%s", c.wantClass, stateColor(c.wantClass), buf.String())
			}
		})
	}
}
