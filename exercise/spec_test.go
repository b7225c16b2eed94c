package exercise

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const shipped = "../topologies/exercises"

func TestShippedExercisesLoad(t *testing.T) {
	all, err := LoadAll(shipped)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) < 8 {
		t.Fatalf("%d exercises shipped, want at least 8", len(all))
	}
	labs := map[string]string{}
	for _, e := range all {
		if other, dup := labs[e.Lab()]; dup {
			t.Errorf("exercises %s and %s share lab name %s: they could not run together", e.Name, other, e.Lab())
		}
		labs[e.Lab()] = e.Name
		if len(e.WrongFix) == 0 {
			t.Errorf("%s: no wrong-fix: the tests cannot show the check needs the cause fixed", e.Name)
		}
		if !e.Check.Established || len(e.Check.Files)+len(e.Check.Commands) == 0 {
			t.Errorf("%s: the check must want Established sessions and inspect the broken thing", e.Name)
		}
	}
}

func TestLoadRejects(t *testing.T) {
	topo, err := os.ReadFile(filepath.Join(shipped, "as-mismatch", "topology.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, yaml, want string }{
		{"unknown key", "title: t\ntask: t\nhints: [h]\nbreak: [{node: node1, run: [true]}]\nsolution: [{node: node1, run: [true]}]\nbogus: 1\n", "bogus"},
		{"unknown node", "title: t\ntask: t\nhints: [h]\nbreak: [{node: nodeX, run: [true]}]\nsolution: [{node: node1, run: [true]}]\n", `node "nodeX"`},
		{"no hints", "title: t\ntask: t\nbreak: [{node: node1, run: [true]}]\nsolution: [{node: node1, run: [true]}]\n", "hints"},
		{"run and fault", "title: t\ntask: t\nhints: [h]\nbreak: [{node: node1, run: [true], fault: bird-down}]\nsolution: [{node: node1, run: [true]}]\n", "exactly one"},
		{"empty file check", "title: t\ntask: t\nhints: [h]\nbreak: [{node: node1, run: [true]}]\nsolution: [{node: node1, run: [true]}]\ncheck: {files: [{node: node1, path: x}]}\n", "contains or lacks"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "ex")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(dir, "topology.yaml"), topo, 0o644)
			os.WriteFile(filepath.Join(dir, "exercise.yaml"), []byte(c.yaml), 0o644)
			_, err := Load(dir)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Load: %v, want an error mentioning %q", err, c.want)
			}
		})
	}
}

func TestParseProtocols(t *testing.T) {
	out := `BIRD 1.6.8 ready.
name     proto    table    state  since       info
static1  Static   master   up     02:48:37    
Mesh_10_0_0_1 BGP      master   up     02:48:40    Established   
Mesh_10_0_0_3 BGP      master   start  02:48:37    Active        Socket: Connection refused
`
	bgp, up, down := parseProtocols(out)
	if bgp != 2 || up != 1 || len(down) != 1 || !strings.Contains(down[0], "Connection refused") {
		t.Fatalf("parseProtocols = %d, %d, %q", bgp, up, down)
	}
}

func TestFindRejectsPaths(t *testing.T) {
	for _, name := range []string{"", "../topologies", ".hidden", "nope"} {
		if _, err := Find(shipped, name); err == nil {
			t.Errorf("Find(%q) succeeded", name)
		}
	}
}
