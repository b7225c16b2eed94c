package exercise

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/peerlab/peerlab/lab/topology"
)

// ErrNotFound is returned when no exercise has the name asked for.
var ErrNotFound = errors.New("no such exercise")

// Step is one command run inside a node's network namespace with `peerlab
// exec LAB NODE -- RUN...` (so birdc talks to the node's BIRD and
// $PEERLAB_NODE_DIR is the node's file root).
//
// A step may instead inject a fault of peerlab's catalogue (Fault) where
// the broken state can only be made by the lab itself (calico-node
// restarting after a reboot); the fix must still be the student's.
type Step struct {
	Node  string   `yaml:"node"`
	Run   []string `yaml:"run"`
	Fault string   `yaml:"fault"`
}

// FileCheck asserts something about a file under a node's file root.
type FileCheck struct {
	Node string `yaml:"node"`
	// Path is relative to the node's folder (etc/bird/bird.cfg).
	Path string `yaml:"path"`
	// Contains must appear in the file; Lacks must not.
	Contains string `yaml:"contains"`
	Lacks    string `yaml:"lacks"`
	// Why is shown when the check fails.
	Why string `yaml:"why"`
}

// CommandCheck is a command that must exit 0 in a node's namespace.
type CommandCheck struct {
	Node string   `yaml:"node"`
	Run  []string `yaml:"run"`
	Why  string   `yaml:"why"`
}

// Check is what `peerlab exercise check` verifies.
type Check struct {
	// Established, when true, wants every BGP protocol of every BIRD node
	// Established in BIRD's own table, and as many protocols as the node
	// has sessions in the topology.
	Established bool           `yaml:"established"`
	Files       []FileCheck    `yaml:"files"`
	Commands    []CommandCheck `yaml:"commands"`
}

// LabPrefix starts the name of every exercise's lab: exercise NAME runs
// lab ex-NAME, so `peerlab status ex-NAME` finds it.
const LabPrefix = "ex-"

// Exercise is one training exercise.
type Exercise struct {
	// Name is the exercise's folder name.
	Name string `yaml:"-"`
	// Dir is the exercise's folder inside the file system it was loaded
	// from; Topology is its topology and TopologyYAML the text of it.
	Dir          string             `yaml:"-"`
	Topology     *topology.Topology `yaml:"-"`
	TopologyYAML []byte             `yaml:"-"`

	Title  string `yaml:"title"`
	Family string `yaml:"family"`
	Task   string `yaml:"task"`
	// Hints go from a nudge to the answer.
	Hints []string `yaml:"hints"`
	// Break makes the fault, after the lab's sessions are Established.
	Break []Step `yaml:"break"`
	// Solution is the reference fix.
	Solution []Step `yaml:"solution"`
	// WrongFix is a plausible fix of the symptom that leaves the cause in
	// place: the tests apply it and expect the check to keep failing.
	WrongFix []Step `yaml:"wrong-fix"`
	// Explanation is shown after solve.
	Explanation string `yaml:"explanation"`
	Check       Check  `yaml:"check"`
}

// Lab is the name of the exercise's lab: LabPrefix + Name.
func (e *Exercise) Lab() string { return e.Topology.Name }

// WriteTopology writes the exercise's topology to file (the lab owner
// reads it from a file) and returns file.
func (e *Exercise) WriteTopology(file string) (string, error) {
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return "", fmt.Errorf("exercise %s: %w", e.Name, err)
	}
	if err := os.WriteFile(file, e.TopologyYAML, 0o644); err != nil {
		return "", fmt.Errorf("exercise %s: write topology: %w", e.Name, err)
	}
	return file, nil
}

// Load reads the exercise in folder dir of fsys (exercise.yaml and
// topology.yaml) strictly and checks that every step and check names a
// node of the topology and that the lab is named LabPrefix + the folder.
// Errors name the files as dir/exercise.yaml.
func Load(fsys fs.FS, dir string) (*Exercise, error) {
	name := path.Base(dir)
	file := path.Join(dir, "exercise.yaml")
	data, err := fs.ReadFile(fsys, file)
	if err != nil {
		return nil, fmt.Errorf("exercise %s: %w", name, err)
	}
	e := &Exercise{Name: name, Dir: dir}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(e); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	topoFile := path.Join(dir, "topology.yaml")
	if e.TopologyYAML, err = fs.ReadFile(fsys, topoFile); err != nil {
		return nil, fmt.Errorf("exercise %s: %w", name, err)
	}
	topo, err := topology.Parse(topoFile, e.TopologyYAML)
	if err != nil {
		return nil, fmt.Errorf("exercise %s: %w", name, err)
	}
	topo.Source = topoFile
	e.Topology = topo
	if want := LabPrefix + name; topo.Name != want {
		return nil, fmt.Errorf("%s: name: %q: an exercise's lab is named %q (%s + the folder's name)", topoFile, topo.Name, want, LabPrefix)
	}
	if err := e.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return e, nil
}

// validate checks the fields every exercise needs and the node names.
func (e *Exercise) validate() error {
	var probs []string
	if e.Title == "" || e.Task == "" {
		probs = append(probs, "title and task are required")
	}
	if len(e.Hints) == 0 || len(e.Break) == 0 || len(e.Solution) == 0 {
		probs = append(probs, "hints, break and solution must not be empty")
	}
	nodes := map[string]bool{}
	for _, n := range e.Topology.Nodes {
		nodes[n.Name] = true
	}
	node := func(where, n string) {
		if !nodes[n] {
			probs = append(probs, fmt.Sprintf("%s: node %q is not in the topology", where, n))
		}
	}
	for field, steps := range map[string][]Step{"break": e.Break, "solution": e.Solution, "wrong-fix": e.WrongFix} {
		for i, s := range steps {
			node(fmt.Sprintf("%s[%d]", field, i), s.Node)
			if (len(s.Run) == 0) == (s.Fault == "") {
				probs = append(probs, fmt.Sprintf("%s[%d]: give exactly one of run and fault", field, i))
			}
		}
	}
	for i, f := range e.Check.Files {
		node(fmt.Sprintf("check.files[%d]", i), f.Node)
		if f.Contains == "" && f.Lacks == "" {
			probs = append(probs, fmt.Sprintf("check.files[%d]: contains or lacks is required", i))
		}
	}
	for i, c := range e.Check.Commands {
		node(fmt.Sprintf("check.commands[%d]", i), c.Node)
	}
	sort.Strings(probs)
	if len(probs) > 0 {
		return errors.New(strings.Join(probs, "; "))
	}
	return nil
}

// LoadAll reads every exercise of fsys (one folder each), in name order.
// where names fsys in errors ("the shipped exercises", a folder).
func LoadAll(fsys fs.FS, where string) ([]*Exercise, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("exercises in %s: %w", where, err)
	}
	var out []*Exercise
	for _, de := range entries {
		if !de.IsDir() {
			continue
		}
		e, err := Load(fsys, de.Name())
		if err != nil {
			return nil, fmt.Errorf("exercises in %s: %w", where, err)
		}
		out = append(out, e)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("exercises in %s: no exercise folder (NAME/exercise.yaml)", where)
	}
	return out, nil
}

// Find reads the exercise called name (its folder, or its lab's name
// LabPrefix+name) of fsys; where names fsys in errors.
func Find(fsys fs.FS, where, name string) (*Exercise, error) {
	if strings.ContainsAny(name, `/\`) || name == "" || name[0] == '.' {
		return nil, fmt.Errorf("exercise %q: %w", name, ErrNotFound)
	}
	if _, err := fs.Stat(fsys, path.Join(name, "exercise.yaml")); err != nil {
		trimmed, ok := strings.CutPrefix(name, LabPrefix)
		if !ok || trimmed == "" {
			return nil, fmt.Errorf("exercise %q in %s: %w ('peerlab exercise list' lists them)", name, where, ErrNotFound)
		}
		if _, err := fs.Stat(fsys, path.Join(trimmed, "exercise.yaml")); err != nil {
			return nil, fmt.Errorf("exercise %q in %s: %w ('peerlab exercise list' lists them)", name, where, ErrNotFound)
		}
		name = trimmed
	}
	return Load(fsys, name)
}
