package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadTopologyArg finds the labs built into the binary by name from a
// folder that has no topologies/, writes them where a lab owner can read
// them, prefers a real file, and names the built-in labs when nothing fits.
func TestLoadTopologyArg(t *testing.T) {
	t.Chdir(t.TempDir())
	state := t.TempDir()
	for _, arg := range []string{"quickstart", "quickstart.yaml", "topologies/quickstart.yaml", "./topologies/quickstart.yaml"} {
		topo, err := loadTopologyArg(arg, state)
		if err != nil {
			t.Fatalf("%s: %v", arg, err)
		}
		if topo.Name != "quickstart" || topo.Source != filepath.Join(state, "topologies", "quickstart.yaml") {
			t.Errorf("%s: lab %s from %s", arg, topo.Name, topo.Source)
		}
	}
	// The copy is named after the lab, which down and clean remove.
	topo, err := loadTopologyArg("kubespray-nginx-proxy-down", state)
	if err != nil || filepath.Base(topo.Source) != topo.Name+".yaml" {
		t.Fatalf("kubespray-nginx-proxy-down: %v, %+v", err, topo)
	}
	if topo, err := loadTopologyArg("calico-rr", ""); err != nil || !strings.Contains(topo.Source, "built into peerlab") {
		t.Errorf("without a state folder: %v, %v", topo, err)
	}
	// A file of that name wins over the built-in lab.
	if err := os.WriteFile("quickstart", []byte("name: mine\nnodes:\n  a: {address: 10.0.0.1, asn: 65001}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if topo, err := loadTopologyArg("quickstart", state); err != nil || topo.Name != "mine" {
		t.Errorf("a file named quickstart: %v, %v", topo, err)
	}
	for _, arg := range []string{"nope", "other/quickstart.yaml", "../quickstart"} {
		_, err := loadTopologyArg(arg, state)
		if err == nil || !strings.Contains(err.Error(), "built-in labs: bird-interop, calico-bird-mesh") {
			t.Errorf("%s: %v, want an error listing the built-in labs", arg, err)
		}
	}
}
