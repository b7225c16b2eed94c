package main

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/peerlab/peerlab/lab"
	"github.com/peerlab/peerlab/lab/topology"
	"github.com/peerlab/peerlab/topologies"
)

// loadTopologyArg loads the topology a command names: a file when arg is
// one, else a lab shipped inside peerlab when arg names one (quickstart,
// quickstart.yaml or topologies/quickstart.yaml), so that the documented
// commands work from any folder. A shipped lab is written to
// lab.TopologyCopy first when stateDir is not "" (a lab
// owner and `peerlab graph LAB` read the topology from its file).
func loadTopologyArg(arg, stateDir string) (*topology.Topology, error) {
	if _, err := os.Stat(arg); err == nil {
		return topology.Load(arg)
	}
	name := shippedName(arg)
	data, err := fs.ReadFile(topologies.FS(), name+".yaml")
	if name == "" || err != nil {
		_, lerr := topology.Load(arg)
		if lerr == nil {
			lerr = fmt.Errorf("load topology: %s: no such file", arg)
		}
		return nil, fmt.Errorf("%w (built-in labs: %s)", lerr, strings.Join(shippedNames(), ", "))
	}
	t, err := topology.Parse(name+".yaml", data)
	if err != nil {
		return nil, err
	}
	t.Source = "topologies/" + name + ".yaml (built into peerlab)"
	if stateDir == "" {
		return t, nil
	}
	file := lab.TopologyCopy(stateDir, t.Name)
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return nil, fmt.Errorf("built-in lab %s: %w", name, err)
	}
	if err := os.WriteFile(file, data, 0o644); err != nil {
		return nil, fmt.Errorf("built-in lab %s: %w", name, err)
	}
	return topology.Load(file)
}

// shippedName is the built-in lab arg names ("" when it cannot name one):
// NAME, NAME.yaml or topologies/NAME.yaml.
func shippedName(arg string) string {
	dir, base := path.Split(filepath.ToSlash(arg))
	if dir != "" && dir != "topologies/" && dir != "./topologies/" {
		return ""
	}
	name := strings.TrimSuffix(base, ".yaml")
	if name == "" || strings.ContainsAny(name, `/\.`) {
		return ""
	}
	return name
}

// shippedNames lists the built-in labs.
func shippedNames() []string {
	entries, err := fs.ReadDir(topologies.FS(), ".")
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".yaml"); ok && !e.IsDir() {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}
