package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/peerlab/peerlab/lab"
)

// These tests drive the real peerlab binary through the life of namespace
// labs: up -d, status, exec, fault, down; SIGKILL of the owner at several
// points of bring-up, then clean or down; two labs at once; run of a mixed
// GoBGP/BIRD topology. They need root, BIRD 1.6 and BIRD 2 (CI has them).

// meshSessions is the number of session ends of calico-bird-mesh.yaml
// (three nodes, three sessions, two ends each).
const meshSessions = 6

func TestLabLifecycleUpStatusExecFaultDown(t *testing.T) {
	requireRoot(t, append(birdBinaries, "ip")...)
	e := newLabEnv(t)
	file, name := e.topology("calico-bird-mesh.yaml", "lc", "")

	r := e.mustRun(60*time.Second, "up", "-d", file)
	if !strings.Contains(r.stdout, "lab "+name+" up (namespace mode, 3 nodes, 3 sessions)") {
		t.Errorf("up -d said %q", r.stdout)
	}
	st, err := lab.ReadState(e.dir, name)
	if err != nil {
		t.Fatalf("up -d returned but the lab's state is not published: %v", err)
	}
	if pidGone(st.PID) || st.PID == 0 {
		t.Fatalf("owner pid %d is not running after up -d", st.PID)
	}
	e.waitStatus(name, "all sessions Established", 30*time.Second, allEstablished(meshSessions))

	// exec: birdc talks to node1's own BIRD, which sees the mesh.
	r = e.mustRun(15*time.Second, "exec", name, "node1", "--", "birdc", "show", "protocols")
	mesh := 0
	for _, line := range strings.Split(r.stdout, "\n") {
		if strings.HasPrefix(line, "Mesh_") {
			mesh++
			if !strings.Contains(line, "Established") {
				t.Errorf("birdc in node1: %q is not Established", line)
			}
		}
	}
	if mesh != 2 {
		t.Errorf("birdc show protocols in node1 lists %d Mesh_ protocols, want 2:\n%s", mesh, r.stdout)
	}

	// fault: node1 resets every BGP connection; its sessions go down with
	// the socket error as the reason.
	r = e.mustRun(15*time.Second, "fault", name, "inject", "tcp179-reject", "--node", "node1")
	if !strings.Contains(r.stdout, "inject tcp179-reject on node1: done") {
		t.Errorf("fault inject said %q", r.stdout)
	}
	rep := e.waitStatus(name, "node1's sessions down with a last error", 30*time.Second, func(rep jsonReport) bool {
		n := 0
		for _, s := range rep.Sessions {
			if s.Local == "node1" {
				if s.State == "Established" || s.LastError == "" {
					return false
				}
				n++
			}
		}
		return n == 2
	})
	for _, s := range rep.Sessions {
		if s.Local == "node1" {
			t.Logf("under tcp179-reject: node1 -> %s: %s, last error %q", s.Remote, s.State, s.LastError)
		}
	}
	e.mustRun(15*time.Second, "fault", name, "heal", "tcp179-reject", "--node", "node1")
	e.waitStatus(name, "all sessions Established again after heal", 60*time.Second, allEstablished(meshSessions))

	birds := processesNaming(lab.LabDir(e.dir, name))
	if len(birds) != 3 {
		t.Errorf("found %d processes naming the lab folder before down, want 3 bird daemons", len(birds))
	}
	// A client that keeps the control socket open, idle, must not hold the
	// tear-down up (down gives the owner 60 s, then reports it running).
	idle, err := net.Dial("unix", st.Socket)
	if err != nil {
		t.Fatalf("dial the control socket: %v", err)
	}
	defer idle.Close()
	r = e.mustRun(90*time.Second, "down", name)
	if !strings.Contains(r.stdout, "lab "+name+" down") {
		t.Errorf("down said %q", r.stdout)
	}
	left := e.count(name, topologyNodeNames(t, file))
	if left.Namespaces != 0 {
		t.Errorf("after down: %d namespaces named plab-%s*", left.Namespaces, name)
	}
	if ps := processesNaming(lab.LabDir(e.dir, name)); len(ps) != 0 {
		t.Errorf("after down: processes naming the lab folder still run: %v", ps)
	}
	if _, err := os.Stat(lab.LabDir(e.dir, name)); !os.IsNotExist(err) {
		t.Errorf("after down: lab folder still there (stat: %v)", err)
	}
	if !pidGone(st.PID) {
		t.Errorf("after down: owner pid %d still runs", st.PID)
	}
	if !left.zero() {
		t.Errorf("after down: leftovers %+v", left)
	}
	// The lab is gone: down and status say so.
	if r := e.run(15*time.Second, "down", name); r.code == 0 || !strings.Contains(r.stderr, "lab not found") {
		t.Errorf("down of a lab already down: exit %d, stderr %q; want an error naming lab not found", r.code, r.stderr)
	}
	if r := e.run(15*time.Second, "status", name); r.code == 0 {
		t.Errorf("status of a lab that is down exits 0")
	}
}

// killFault is added to the topology of the SIGKILL tests so the lab has
// nftables rules in a node namespace by the time it is up.
const killFault = `faults:
  - at: 0s
    fault: tcp179-reject
    node: node3
`

func TestSIGKILLDuringBringUpThenCleanOrDown(t *testing.T) {
	requireRoot(t, append(birdBinaries, bird2Binary(), "ip", "nft")...)
	for _, tc := range []struct {
		name string
		// after is how long the owner runs before SIGKILL, when set.
		after time.Duration
		// until, when set, is polled instead: SIGKILL as soon as it holds,
		// to land inside bring-up however fast this machine brings labs up.
		until func(e *labEnv, name string) bool
		// up kills once the owner says the lab is up and the scheduled
		// fault is in place.
		up bool
		// finish is the command that removes what the lab left: clean,
		// down, or up (then down).
		finish string
	}{
		{name: "at the first namespace then clean", until: hasNamespace, finish: "clean"},
		{name: "at the first agent then clean", until: hasProcess("gobgpd"), finish: "clean"},
		{name: "at the first bird then clean", until: hasProcess("bird"), finish: "clean"},
		{name: "after 0.2s then clean", after: 200 * time.Millisecond, finish: "clean"},
		{name: "after 0.6s then clean", after: 600 * time.Millisecond, finish: "clean"},
		{name: "after 1.5s then clean", after: 1500 * time.Millisecond, finish: "clean"},
		{name: "once up then clean", up: true, finish: "clean"},
		{name: "once up then down", up: true, finish: "down"},
		{name: "once up then up again and down", up: true, finish: "up"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newLabEnv(t)
			file, name := e.topology("mixed-rr.yaml", "kill", killFault)
			nodes := topologyNodeNames(t, file)

			owner := exec.Command(e.bin, "up", file, "--state-dir", e.dir)
			stdout, err := owner.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			owner.Stderr = os.Stderr
			if err := owner.Start(); err != nil {
				t.Fatal(err)
			}
			lines := make(chan string, 16)
			go func() {
				defer close(lines)
				sc := bufio.NewScanner(stdout)
				for sc.Scan() {
					lines <- sc.Text()
				}
				_, _ = io.Copy(io.Discard, stdout)
			}()
			switch {
			case tc.after > 0:
				time.Sleep(tc.after)
			case tc.until != nil:
				deadline := time.Now().Add(30 * time.Second)
				for !tc.until(e, name) {
					if time.Now().After(deadline) {
						t.Fatalf("the kill point of %q never came", tc.name)
					}
					time.Sleep(time.Millisecond)
				}
			case tc.up:
				waitUpLine(t, lines, name, 60*time.Second)
				waitNFTable(t, e, name, nodes, 10*time.Second)
			}
			if err := owner.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			_ = owner.Wait()
			for range lines {
			}

			before := e.count(name, nodes)
			t.Logf("left: %+v", before)
			if before.HostLinks != 0 {
				t.Errorf("before %s: %d lab veths or bridges in the host namespace", tc.finish, before.HostLinks)
			}
			if tc.up {
				// Everything was up: namespaces (hub and four nodes), the
				// fault's table, both agents, both BIRDs and the lab's files
				// remain for clean to remove.
				if before.Namespaces != 1+len(nodes) || before.NFTables < 1 || before.Agents != 2 || before.BIRDs != 2 || before.State == 0 {
					t.Errorf("a lab killed once up should leave 5 namespaces, a peerlab table, 2 agents, 2 BIRDs and state files; found %+v", before)
				}
				// Each node is a host: its init (a gobgp node's is its
				// agent) and its mount namespace with the node's binds
				// outlive the killed owner.
				if before.Inits != len(nodes) || before.Mounts == 0 {
					t.Errorf("a lab killed once up should leave %d node inits and their mounts; found %+v", len(nodes), before)
				}
			}

			var r result
			switch tc.finish {
			case "up":
				// up replaces what its dead predecessor left.
				e.mustRun(60*time.Second, "up", "-d", file)
				if got := e.count(name, nodes); got.Namespaces != 1+len(nodes) || got.Agents != 2 {
					t.Errorf("lab up again: %+v; want %d namespaces and 2 agents", got, 1+len(nodes))
				}
				e.waitStatus(name, "every session end reported", 30*time.Second, func(rep jsonReport) bool { return len(rep.Sessions) == 6 })
				fallthrough
			case "down":
				r = e.mustRun(60*time.Second, "down", name)
				if !strings.Contains(r.stdout, "lab "+name+" down") {
					t.Errorf("down said %q", r.stdout)
				}
			default:
				r = e.mustRun(60*time.Second, "clean")
				if !before.zero() && !strings.Contains(r.stdout, "removed "+name) {
					t.Errorf("clean said %q; want it to name lab %s", r.stdout, name)
				}
			}
			if after := e.count(name, nodes); !after.zero() {
				t.Errorf("after %s: leftovers %+v", tc.finish, after)
			}
			r = e.mustRun(60*time.Second, "clean")
			if strings.TrimSpace(r.stdout) != "nothing to clean" {
				t.Errorf("second clean said %q, want \"nothing to clean\"", r.stdout)
			}
		})
	}
}

// hasNamespace reports whether lab name has its hub namespace.
func hasNamespace(_ *labEnv, name string) bool {
	_, err := os.Lstat(filepath.Join("/run/netns", "plab-"+name))
	return err == nil
}

// hasProcess reports whether a process of the given kind ("bird" or
// "gobgpd", a gobgp node's agent) names the lab's state folder.
func hasProcess(kind string) func(*labEnv, string) bool {
	return func(e *labEnv, _ string) bool {
		for _, p := range processesNaming(e.dir) {
			if filepath.Base(p.argv[0]) == kind || (len(p.argv) > 1 && p.argv[1] == kind) {
				return true
			}
		}
		return false
	}
}

// waitUpLine reads the owner's stdout until it says lab name is up.
func waitUpLine(t *testing.T, lines <-chan string, name string, timeout time.Duration) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("the owner of %s exited before it said the lab was up", name)
			}
			if strings.HasPrefix(line, "lab "+name+" up (") {
				return
			}
		case <-deadline:
			t.Fatalf("the owner of %s did not say the lab was up within %v", name, timeout)
		}
	}
}

// waitNFTable waits until the lab's scheduled fault has put its nftables
// table in place.
func waitNFTable(t *testing.T, e *labEnv, name string, nodes []string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for e.count(name, nodes).NFTables == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("lab %s: the scheduled fault's nftables table did not appear within %v", name, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestTwoNamespaceLabsAtOnce(t *testing.T) {
	requireRoot(t, append(birdBinaries, "ip", "nft")...)
	e := newLabEnv(t)
	fileA, nameA := e.topology("calico-bird-mesh.yaml", "twoa", "")
	fileB, nameB := e.topology("calico-bird-mesh.yaml", "twob", "")
	nodes := topologyNodeNames(t, fileA)
	e.mustRun(60*time.Second, "up", "-d", fileA)
	e.mustRun(60*time.Second, "up", "-d", fileB)
	e.waitStatus(nameA, "all sessions Established", 30*time.Second, allEstablished(meshSessions))
	e.waitStatus(nameB, "all sessions Established", 30*time.Second, allEstablished(meshSessions))

	// A second up of a running lab is refused and leaves its owner's log be.
	logA := filepath.Join(e.dir, "logs", nameA+".log")
	logBefore, err := os.ReadFile(logA)
	if err != nil {
		t.Fatalf("log of the detached owner: %v", err)
	}
	if r := e.run(60*time.Second, "up", "-d", fileA); r.code != exitFailed || !strings.Contains(r.stderr, "already running") {
		t.Errorf("second up -d of running lab %s: exit %d, stderr %q; want exit 1, already running", nameA, r.code, r.stderr)
	}
	if logAfter, _ := os.ReadFile(logA); string(logAfter) != string(logBefore) {
		t.Errorf("second up -d of lab %s rewrote its owner's log: %q, was %q", nameA, logAfter, logBefore)
	}

	// clean leaves running labs alone, and clean in another state folder
	// does not see these labs at all.
	r := e.mustRun(30*time.Second, "clean", "-o", "json")
	var rep lab.CleanReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("clean -o json: %v\n%s", err, r.stdout)
	}
	if len(rep.Removed) != 0 || len(rep.Running) != 2 {
		t.Errorf("clean with both labs running: removed %v, running %v; want nothing removed, both running", rep.Removed, rep.Running)
	}
	other := newLabEnv(t)
	if r := other.mustRun(30*time.Second, "clean"); strings.TrimSpace(r.stdout) != "nothing to clean" {
		t.Errorf("clean in an unrelated state folder said %q; want \"nothing to clean\"", r.stdout)
	}
	if r := other.run(30*time.Second, "down", nameA); r.code == 0 {
		t.Errorf("down %s in an unrelated state folder exits 0: %s", nameA, r.stdout)
	}

	e.mustRun(60*time.Second, "down", nameA)
	if left := e.count(nameA, nodes); left.Namespaces != 0 || left.BIRDs != 3 {
		// The three BIRDs still running are lab B's.
		t.Errorf("after down %s: %+v; want no namespace of %s and lab %s's 3 BIRDs", nameA, left, nameA, nameB)
	}
	e.waitStatus(nameB, "still all Established", 5*time.Second, allEstablished(meshSessions))
	if left := e.count(nameB, nodes); left.Namespaces != 1+len(nodes) {
		t.Errorf("lab %s has %d namespaces after down %s, want %d", nameB, left.Namespaces, nameA, 1+len(nodes))
	}
	e.mustRun(60*time.Second, "down", nameB)
	if left := e.count(nameB, nodes); !left.zero() {
		t.Errorf("after down of both: leftovers %+v", left)
	}
}

func TestRunMixedRouteReflector(t *testing.T) {
	requireRoot(t, append(birdBinaries, bird2Binary(), "ip")...)
	e := newLabEnv(t)
	file, name := e.topology("mixed-rr.yaml", "mrr", "")
	r := e.run(2*time.Minute, "run", file, "-o", "json")
	if r.code != 0 {
		t.Fatalf("run %s: exit %d\nstdout: %s\nstderr: %s", filepath.Base(file), r.code, r.stdout, r.stderr)
	}
	var rep struct {
		jsonReport
		Mode string `json:"mode"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("run -o json: %v\n%s", err, r.stdout)
	}
	if rep.Lab != name || rep.Mode != "namespace" || !rep.OK {
		t.Errorf("report: lab %q mode %q ok %v", rep.Lab, rep.Mode, rep.OK)
	}
	routes := 0
	for _, x := range rep.Expectations {
		if !x.OK {
			t.Errorf("expectation failed: %s: %s", x.Description, x.Detail)
		}
		if strings.HasPrefix(x.Description, "route ") {
			routes++
		}
	}
	if routes != 7 {
		t.Errorf("%d route expectations in the report, want the 7 of mixed-rr.yaml", routes)
	}
	if left := e.count(name, topologyNodeNames(t, file)); !left.zero() {
		t.Errorf("after run: leftovers %+v", left)
	}
}
