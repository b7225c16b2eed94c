package netns

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"go.uber.org/zap/zaptest"
	"golang.org/x/sys/unix"
)

// labProcesses returns the pids of processes running in lab's namespaces.
func labProcesses(t *testing.T, lab string) []int {
	t.Helper()
	inodes := map[uint64]string{}
	for _, ns := range namespacesOf(t, lab) {
		if ino, ok := nsInode(nsPath(ns)); ok {
			inodes[ino] = ns
		}
	}
	victims, err := findIn(inodes)
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, v := range victims {
		pids = append(pids, v.pid)
		_ = unix.Close(v.fd)
	}
	return pids
}

func TestCleanAfterSIGKILL(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	tests := []struct {
		name      string
		stage     string
		wantNS    int // namespaces left by the dead child: hub + nodes built
		wantProcs bool
	}{
		{"after hub", "hub:0", 1, false},
		{"mid nodes", "node:2", 2, false}, // at least hub and node 2; others may be in flight
		{"after nodes", "nodes:6", 7, false},
		{"after all", "all", 7, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			name := labName(t)
			child := exec.Command(os.Args[0], "-test.run=^$")
			child.Env = append(os.Environ(), crashEnv+"="+name+":"+tt.stage)
			out, err := child.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != -1 {
				t.Fatalf("child: %v, want killed by a signal; output:\n%s", err, out)
			}
			left := namespacesOf(t, name)
			if len(left) < tt.wantNS || !slices.Contains(left, HubNamespace(name)) {
				t.Fatalf("the dead child left %v, want the hub and at least %d namespaces", left, tt.wantNS)
			}
			procs := labProcesses(t, name)
			if tt.wantProcs != (len(procs) > 0) {
				t.Fatalf("processes in the lab: %v, want some: %t", procs, tt.wantProcs)
			}

			removed, err := Clean(context.Background(), name, zaptest.NewLogger(t))
			if err != nil {
				t.Fatalf("clean: %v", err)
			}
			if removed.Namespaces != len(left) || removed.Processes != len(procs) {
				t.Fatalf("clean removed %+v, want %d namespaces and %d processes", removed, len(left), len(procs))
			}
			if left := namespacesOf(t, name); len(left) != 0 {
				t.Fatalf("after clean: %v remain", left)
			}
			for _, pid := range procs {
				if procNetns(pid) != 0 {
					t.Errorf("process %d still runs in a network namespace", pid)
				}
			}
			again, err := Clean(context.Background(), name, nil)
			if err != nil || again != (Removed{}) {
				t.Fatalf("second clean: %+v, %v; want nothing to do", again, err)
			}
		})
	}
}

func TestCleanRemovesHalfMadeNamespace(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	name := labName(t)
	// A crash between creating the mount point and mounting leaves an empty
	// file; Clean removes it too.
	if err := ensureRunDir(); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(nsPath(NodeNamespace(name, "x")))
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	removed, err := Clean(context.Background(), name, nil)
	if err != nil || removed.Namespaces != 1 {
		t.Fatalf("clean: %+v, %v; want 1 namespace removed", removed, err)
	}
	if _, err := Clean(context.Background(), "bad--name", nil); !errors.Is(err, ErrInvalidSpec) {
		t.Fatalf("clean of an invalid lab name: %v, want ErrInvalidSpec", err)
	}
}

func TestDestroyLeavesNothing(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	name := labName(t)
	lab, err := Create(context.Background(), threeNodes(name), zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	sleep := exec.Command("sleep", "300")
	if err := lab.StartProcess("b", sleep); err != nil {
		t.Fatal(err)
	}
	if n := len(namespacesOf(t, name)); n != 4 {
		t.Fatalf("%d namespaces before destroy, want 4", n)
	}
	if err := lab.Destroy(); err != nil {
		t.Fatal(err)
	}
	if left := namespacesOf(t, name); len(left) != 0 {
		t.Fatalf("after destroy: %v remain", left)
	}
	if err := sleep.Wait(); err == nil {
		t.Fatal("the process in node b exited cleanly; want it killed by destroy")
	}
	if err := lab.Destroy(); err != nil {
		t.Fatalf("second destroy: %v", err)
	}
	if err := lab.Do("a", func() error { return nil }); !errors.Is(err, ErrDestroyed) {
		t.Fatalf("Do after destroy: %v, want ErrDestroyed", err)
	}
}

func TestFailedCreateLeavesNothing(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	pfx := netip.MustParsePrefix
	tests := []struct {
		name    string
		spec    func(name string) LabSpec
		hook    stageHook
		invalid bool // the error wraps ErrInvalidSpec
	}{
		{"invalid node", func(n string) LabSpec {
			s := starSpec(n, 3, 4)
			s.Nodes[1].Name = "bad/name"
			return s
		}, nil, true},
		{"duplicate address", func(n string) LabSpec {
			s := starSpec(n, 3, 4)
			s.Nodes[2].Addresses = s.Nodes[0].Addresses
			return s
		}, nil, true},
		{"unreachable gateway", func(n string) LabSpec {
			s := starSpec(n, 5, 4)
			s.Nodes[4].Routes = []Route{{Dst: pfx("0.0.0.0/0"), Via: netip.MustParseAddr("10.99.0.1")}}
			return s
		}, nil, false},
		{"failure mid nodes", func(n string) LabSpec { return starSpec(n, 8, 4) }, func(stage string, i int) error {
			if stage == "node" && i == 3 {
				return errors.New("injected")
			}
			return nil
		}, false},
		{"failure after links", func(n string) LabSpec { return threeNodes(n) }, func(stage string, _ int) error {
			if stage == "links" {
				return errors.New("injected")
			}
			return nil
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			name := labName(t)
			lab, err := create(context.Background(), tt.spec(name), zaptest.NewLogger(t), tt.hook)
			if err == nil {
				lab.Destroy()
				t.Fatal("create succeeded")
			}
			if errors.Is(err, ErrInvalidSpec) != tt.invalid {
				t.Fatalf("create: %v; want ErrInvalidSpec: %t", err, tt.invalid)
			}
			if left := namespacesOf(t, name); len(left) != 0 {
				t.Fatalf("failed create left %v", left)
			}
		})
	}
}

func TestCancelledCreateLeavesNothing(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	name := labName(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hook := func(stage string, i int) error {
		if stage == "node" && i == 2 {
			cancel()
		}
		return nil
	}
	if _, err := create(ctx, starSpec(name, 12, 5), zaptest.NewLogger(t), hook); !errors.Is(err, context.Canceled) {
		t.Fatalf("create: %v, want context.Canceled", err)
	}
	if left := namespacesOf(t, name); len(left) != 0 {
		t.Fatalf("cancelled create left %v", left)
	}
}

func TestCreateRefusesExistingLab(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	name := labName(t)
	first := mustCreate(t, threeNodes(name))
	before := namespacesOf(t, name)
	var stdin unix.Stat_t
	if err := unix.Fstat(0, &stdin); err != nil {
		t.Fatal(err)
	}
	if _, err := Create(context.Background(), threeNodes(name), nil); !errors.Is(err, ErrLabExists) {
		t.Fatalf("second create: %v, want ErrLabExists", err)
	}
	// Rolling back must close only what the refused create opened.
	var after unix.Stat_t
	if err := unix.Fstat(0, &after); err != nil || after.Ino != stdin.Ino || after.Dev != stdin.Dev {
		t.Fatalf("fd 0 changed under the refused create: %v", err)
	}
	if after := namespacesOf(t, name); len(after) != len(before) {
		t.Fatalf("the refused create changed the lab: %v, was %v", after, before)
	}
	if from := exchange(t, first, "a", "10.1.0.1:0", "b"); from.String() != "10.1.0.2" {
		t.Fatalf("first lab broken after the refused create: traffic from %s", from)
	}
}

func TestTwoLabsDoNotTouchEachOther(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	name1 := labName(t)
	name2 := name1 + "-b" // namespaces plab-<name1>-b…: must not count as lab name1's
	t.Cleanup(func() { _, _ = Clean(context.Background(), name2, nil) })
	// Same addresses in both: each lab's bridge is in its own hub namespace.
	lab1 := mustCreate(t, threeNodes(name1))
	lab2 := mustCreate(t, threeNodes(name2))

	labs, err := List()
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, l := range labs {
		if (l.Name == name1 || l.Name == name2) && l.Hub && len(l.Namespaces) == 4 {
			found++
		}
	}
	if found != 2 {
		t.Fatalf("List = %+v, want %s and %s with a hub and 4 namespaces each", labs, name1, name2)
	}

	if err := lab1.Destroy(); err != nil {
		t.Fatal(err)
	}
	if left := namespacesOf(t, name1); len(left) != 0 {
		t.Fatalf("lab 1 left %v", left)
	}
	if got := namespacesOf(t, name2); len(got) != 4 {
		t.Fatalf("destroying lab 1 changed lab 2: %v", got)
	}
	if removed, err := Clean(context.Background(), name1, nil); err != nil || removed != (Removed{}) {
		t.Fatalf("clean of lab 1: %+v, %v; want nothing removed", removed, err)
	}
	if from := exchange(t, lab2, "a", "10.1.0.1:0", "b"); from.String() != "10.1.0.2" {
		t.Fatalf("lab 2 traffic came from %s", from)
	}
	if hasPrefix(namespacesOf(t, ""), HubNamespace(name1)+nodeSep) {
		t.Fatal("a node namespace of lab 1 survived")
	}
}

func TestOpenExistingLab(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	name := labName(t)
	spec := threeNodes(name)
	if _, err := Open(spec, nil); !errors.Is(err, ErrLabNotFound) {
		t.Fatalf("open before create: %v, want ErrLabNotFound", err)
	}
	created := mustCreate(t, spec)
	opened, err := Open(spec, zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	// The opened lab reaches the same namespaces: a listener made through
	// one is reachable through the other.
	ln, err := created.ListenIn("a", "tcp", "10.1.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	conn, err := opened.DialIn(context.Background(), "b", "tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("dial through the opened lab: %v", err)
	}
	conn.Close()
	bigger := spec
	bigger.Nodes = append(bigger.Nodes[:3:3], NodeSpec{Name: "d"})
	if _, err := Open(bigger, nil); !errors.Is(err, ErrLabNotFound) || !strings.Contains(err.Error(), "node d") {
		t.Fatalf("open with a node that does not exist: %v, want ErrLabNotFound naming node d", err)
	}
	if err := opened.Destroy(); err != nil {
		t.Fatal(err)
	}
	if left := namespacesOf(t, name); len(left) != 0 {
		t.Fatalf("destroy through the opened lab left %v", left)
	}
}
