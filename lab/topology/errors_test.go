package topology

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestErrorString(t *testing.T) {
	tests := []struct {
		err  Error
		want string
	}{
		{Error{File: "calico-mesh.yaml", Line: 14, Path: "nodes.worker1.asn", Msg: "4294967296 is not a valid AS number"},
			"calico-mesh.yaml:14: nodes.worker1.asn: 4294967296 is not a valid AS number"},
		{Error{File: "a.yaml", Path: "name", Msg: "name is required"}, "a.yaml: name: name is required"},
		{Error{File: "a.yaml", Line: 3, Msg: "invalid YAML: x"}, "a.yaml:3: invalid YAML: x"},
		{Error{File: "a.yaml", Msg: "file is empty"}, "a.yaml: file is empty"},
		{Error{Path: "nodes", Msg: "m"}, "nodes: m"},
		{Error{Line: 2, Msg: "m"}, "2: m"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
	list := ErrorList{&tests[0].err, &tests[1].err}
	if got, want := list.Error(), tests[0].want+"\n"+tests[1].want; got != want {
		t.Errorf("ErrorList.Error() = %q, want %q", got, want)
	}
}

func TestErrorsAs(t *testing.T) {
	// One problem: a *Error, which also converts to an ErrorList.
	_, err := Parse("one.yaml", []byte("name: x\nnodes:\n  a: {address: 10.0.0.1, asn: 0}\n"))
	var single *Error
	if !errors.As(err, &single) || single.Line != 3 || single.Path != "nodes.a.asn" || single.File != "one.yaml" {
		t.Fatalf("errors.As(*Error) = %+v from %v", single, err)
	}
	var list ErrorList
	if !errors.As(err, &list) || len(list) != 1 || list[0] != single {
		t.Errorf("errors.As(ErrorList) from a single error = %v", list)
	}
	// Several problems: an ErrorList, whose first element errors.As finds.
	_, err = Parse("two.yaml", []byte("name: X\nnodes:\n  a: {address: 10.0.0.1, asn: 0}\n"))
	list = nil
	if !errors.As(err, &list) || len(list) != 2 {
		t.Fatalf("errors.As(ErrorList) = %v from %v", list, err)
	}
	single = nil
	if !errors.As(err, &single) || single != list[0] {
		t.Errorf("errors.As(*Error) from a list = %v, want %v", single, list[0])
	}
}

func TestLoadFileErrors(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "missing.yaml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want an error wrapping os.ErrNotExist", err)
	}
	// Load names errors by the file's base name, Parse by the name given.
	dir := t.TempDir()
	path := filepath.Join(dir, "lab.yaml")
	if err := os.WriteFile(path, []byte("name: x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err == nil || !strings.HasPrefix(err.Error(), "lab.yaml: nodes: ") {
		t.Errorf("Load error = %v, want it to start with lab.yaml: nodes:", err)
	}
	if _, err := Parse("dir/given.yaml", []byte("name: x\n")); err == nil || !strings.HasPrefix(err.Error(), "dir/given.yaml: ") {
		t.Errorf("Parse error = %v, want the given name", err)
	}
	topo, err := Parse("ok", []byte("name: x\nnodes: {a: {address: 10.0.0.1}}\n"))
	if err != nil || topo.Source != "" {
		t.Errorf("Parse = %+v, %v; want Source empty", topo, err)
	}
}

func TestNodeNameWithDot(t *testing.T) {
	// viper would split "a.b" into nested keys with its default delimiter.
	_, err := Parse("dot.yaml", []byte("name: x\nnodes:\n  a.b: {address: 10.0.0.1}\n"))
	var list ErrorList
	if !errors.As(err, &list) || len(list) != 1 || list[0].Path != "nodes.a.b" || list[0].Line != 3 ||
		!strings.Contains(list[0].Msg, `node name "a.b" is invalid`) {
		t.Errorf("got %v, want one invalid node name error at line 3", err)
	}
}
