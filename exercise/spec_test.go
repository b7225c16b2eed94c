package exercise

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/peerlab/peerlab/topologies"
)

// shipped is the exercises folder of the repository; the binary embeds
// the same files (topologies.Exercises).
const shipped = "../topologies/exercises"

func TestShippedExercisesLoad(t *testing.T) {
	all, err := LoadAll(topologies.Exercises(), "the shipped exercises")
	if err != nil {
		t.Fatal(err)
	}
	onDisk, err := LoadAll(os.DirFS(shipped), shipped)
	if err != nil {
		t.Fatal(err)
	}
	if len(onDisk) != len(all) {
		t.Errorf("the binary embeds %d exercises, %s holds %d", len(all), shipped, len(onDisk))
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
		if e.Lab() != LabPrefix+e.Name {
			t.Errorf("%s: lab %s, want %s", e.Name, e.Lab(), LabPrefix+e.Name)
		}
		for _, f := range e.Check.Files {
			for _, text := range []string{f.Contains, f.Lacks} {
				// A config line (it has a space) quoted in the why gives the fix away.
				if strings.ContainsAny(text, " \t") && strings.Contains(f.Why, text) {
					t.Errorf("%s: the check's why %q quotes the line to write: a FAIL would give the answer away", e.Name, f.Why)
				}
			}
		}
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
	good := "title: t\ntask: t\nhints: [h]\nbreak: [{node: node1, run: [true]}]\nsolution: [{node: node1, run: [true]}]\n"
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, "as-mismatch")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(dir, "topology.yaml"), topo, 0o644)
			os.WriteFile(filepath.Join(dir, "exercise.yaml"), []byte(c.yaml), 0o644)
			_, err := Load(os.DirFS(root), "as-mismatch")
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Load: %v, want an error mentioning %q", err, c.want)
			}
		})
	}
	// The lab must be named after the exercise's folder.
	t.Run("lab not named after the folder", func(t *testing.T) {
		root := t.TempDir()
		dir := filepath.Join(root, "other-name")
		os.MkdirAll(dir, 0o755)
		os.WriteFile(filepath.Join(dir, "topology.yaml"), topo, 0o644)
		os.WriteFile(filepath.Join(dir, "exercise.yaml"), []byte(good), 0o644)
		_, err := Load(os.DirFS(root), "other-name")
		if err == nil || !strings.Contains(err.Error(), `"ex-other-name"`) || !strings.Contains(err.Error(), "other-name/topology.yaml: name:") {
			t.Fatalf("Load: %v, want an error naming the file, the field and ex-other-name", err)
		}
	})
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

func TestFind(t *testing.T) {
	fsys := topologies.Exercises()
	for _, name := range []string{"", "../topologies", ".hidden", "nope", "ex-", "ex-nope"} {
		if _, err := Find(fsys, "the shipped exercises", name); !errors.Is(err, ErrNotFound) {
			t.Errorf("Find(%q) = %v, want ErrNotFound", name, err)
		}
	}
	for _, name := range []string{"hold-time-too-low", "ex-hold-time-too-low"} {
		e, err := Find(fsys, "the shipped exercises", name)
		if err != nil || e.Name != "hold-time-too-low" {
			t.Errorf("Find(%q) = %v, %v; want the exercise hold-time-too-low", name, e, err)
		}
	}
	if _, err := LoadAll(os.DirFS(t.TempDir()), "an empty folder"); err == nil || !strings.Contains(err.Error(), "an empty folder") {
		t.Errorf("LoadAll of an empty folder: %v", err)
	}
}
