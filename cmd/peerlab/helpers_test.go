package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/peerlab/peerlab/internal/netns"
	"github.com/peerlab/peerlab/internal/testgate"
	"github.com/peerlab/peerlab/lab"
	"github.com/peerlab/peerlab/lab/topology"
)

// This file holds the helpers of the tests that drive a real peerlab
// binary (lifecycle_test.go): building it, per-test state folders and lab
// names, running commands, and counting what a lab leaves on the host.

// TestMain removes the peerlab binary the lifecycle tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// built is the peerlab binary built once per test run.
var built struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// peerlabBinary builds ./cmd/peerlab and, beside it, its node agent
// ./cmd/peerlab-gobgpd (what make build makes) once per test run and
// returns peerlab's path.
func peerlabBinary(t testing.TB) string {
	t.Helper()
	built.once.Do(func() {
		built.dir, built.err = os.MkdirTemp("", "peerlab-bin")
		if built.err != nil {
			return
		}
		built.path = filepath.Join(built.dir, "peerlab")
		for out, pkg := range map[string]string{built.path: ".", filepath.Join(built.dir, lab.AgentProgram): "../peerlab-gobgpd"} {
			msg, err := exec.Command("go", "build", "-o", out, pkg).CombinedOutput()
			if err != nil {
				built.err = fmt.Errorf("go build %s: %v\n%s", pkg, err, msg)
				return
			}
		}
	})
	if built.err != nil {
		t.Fatalf("build peerlab: %v", built.err)
	}
	return built.path
}

// requireRoot skips a test that needs root (network namespaces) and the
// given programs, unless CI=true, where their absence fails the test.
func requireRoot(t testing.TB, programs ...string) {
	t.Helper()
	testgate.Require(t, true, programs...)
}

// birdBinaries are the daemons a namespace lab with bird and bird2 nodes runs.
var birdBinaries = []string{"/usr/sbin/bird", "/usr/sbin/birdc"}

// bird2Binary is BIRD 2's daemon as internal/bird finds it.
func bird2Binary() string {
	cache := os.Getenv("PEERLAB_CACHE")
	if cache == "" {
		cache = "/var/cache/peerlab"
	}
	return filepath.Join(cache, "bird2", "usr", "sbin", "bird")
}

// labSeq numbers the labs of this test process.
var labSeq atomic.Int32

// uniqueLabName is a lab name no other test, here or in another process,
// uses at the same time: tag, a sequence number and this process's pid.
func uniqueLabName(tag string) string {
	name := fmt.Sprintf("%s%d-%s", tag, labSeq.Add(1), strconv.FormatInt(int64(os.Getpid()), 36))
	if len(name) > 20 {
		name = name[:20]
	}
	return strings.TrimRight(name, "-")
}

// labEnv is one test's state folder with the labs it runs.
type labEnv struct {
	t     testing.TB
	bin   string
	dir   string // the state folder: short, for Unix socket paths
	names []string
}

// newLabEnv makes a state folder under /tmp (t.TempDir paths are too long
// for the 108-byte Unix socket paths of control.sock and bird.ctl) and
// registers a clean-up that removes every lab of it even when the test
// failed half-way: clean --force, then the namespaces by name, then any
// process still naming the folder.
func newLabEnv(t testing.TB) *labEnv {
	t.Helper()
	bin := peerlabBinary(t)
	dir, err := os.MkdirTemp("/tmp", "pl")
	if err != nil {
		t.Fatal(err)
	}
	e := &labEnv{t: t, bin: bin, dir: dir}
	t.Cleanup(func() {
		if r := e.run(30*time.Second, "clean", "--force"); r.code != 0 {
			t.Logf("clean-up: clean --force: exit %d: %s", r.code, r.stderr)
		}
		for _, n := range e.names {
			if _, err := netns.Clean(context.Background(), n, nil); err != nil {
				t.Logf("clean-up: namespaces of %s: %v", n, err)
			}
		}
		for _, p := range processesNaming(dir) {
			t.Logf("clean-up: killing leftover pid %d: %s", p.pid, strings.Join(p.argv, " "))
			_ = syscall.Kill(p.pid, syscall.SIGKILL)
		}
		os.RemoveAll(dir)
	})
	return e
}

// topology writes a copy of the shipped topology file under a unique lab
// name (tag plus a number) into the state folder's root, with extra YAML
// appended, and returns the copy's path and the lab name.
func (e *labEnv) topology(file, tag, extra string) (string, string) {
	e.t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "topologies", file))
	if err != nil {
		e.t.Fatal(err)
	}
	name := uniqueLabName(tag)
	re := regexp.MustCompile(`(?m)^name: .*$`)
	if !re.Match(data) {
		e.t.Fatalf("%s has no top-level name:", file)
	}
	data = re.ReplaceAll(data, []byte("name: "+name))
	data = append(data, extra...)
	path := filepath.Join(e.dir, name+".yaml")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		e.t.Fatal(err)
	}
	e.names = append(e.names, name)
	return path, name
}

// result is what one peerlab command did.
type result struct {
	stdout, stderr string
	code           int
}

// run runs peerlab with args (args[0] is the command) and --state-dir, in the environment of the
// test (CI included), giving up after timeout.
func (e *labEnv) run(timeout time.Duration, args ...string) result {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	// --state-dir right after the command name: anything after "--" in
	// args belongs to the command exec runs.
	argv := append([]string{args[0], "--state-dir", e.dir}, args[1:]...)
	cmd := exec.CommandContext(ctx, e.bin, argv...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		e.t.Fatalf("peerlab %s: %v", strings.Join(args, " "), err)
	}
	if ctx.Err() != nil {
		e.t.Fatalf("peerlab %s: no answer within %v; stderr: %s", strings.Join(args, " "), timeout, r.stderr)
	}
	return r
}

// mustRun runs peerlab and fails the test unless it exits 0.
func (e *labEnv) mustRun(timeout time.Duration, args ...string) result {
	e.t.Helper()
	r := e.run(timeout, args...)
	if r.code != 0 {
		e.t.Fatalf("peerlab %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// status returns the lab's `status -o json` report.
func (e *labEnv) status(name string) (jsonReport, error) {
	r := e.run(15*time.Second, "status", name, "-o", "json")
	var rep jsonReport
	if r.code != 0 {
		return rep, fmt.Errorf("status %s: exit %d: %s", name, r.code, r.stderr)
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		return rep, fmt.Errorf("status %s: %w\n%s", name, err, r.stdout)
	}
	return rep, nil
}

// waitStatus polls the lab's status until cond holds for it, and fails the
// test when it does not within timeout, showing the last report.
func (e *labEnv) waitStatus(name, what string, timeout time.Duration, cond func(jsonReport) bool) jsonReport {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		rep, err := e.status(name)
		if err == nil && cond(rep) {
			return rep
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("lab %s: %s: not within %v; last status: %+v (error %v)", name, what, timeout, rep.Sessions, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// allEstablished reports whether the report has sessions and all of them
// are Established at both ends.
func allEstablished(want int) func(jsonReport) bool {
	return func(rep jsonReport) bool {
		if len(rep.Sessions) != want {
			return false
		}
		for _, s := range rep.Sessions {
			if s.State != "Established" {
				return false
			}
		}
		return true
	}
}

// proc is a process found on the host.
type proc struct {
	pid  int
	argv []string
}

// processesNaming lists the live processes (zombies have no command line)
// whose command line contains s, other than this one.
func processesNaming(s string) []proc {
	entries, _ := os.ReadDir("/proc")
	var out []proc
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		data, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || len(data) == 0 || !bytes.Contains(data, []byte(s)) {
			continue
		}
		out = append(out, proc{pid: pid, argv: strings.Split(strings.TrimRight(string(data), "\x00"), "\x00")})
	}
	return out
}

// pidGone reports whether pid has exited (a zombie counts as exited).
func pidGone(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return true
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// "pid (comm) S ...": the state follows the last ')'.
	i := bytes.LastIndexByte(data, ')')
	return i > 0 && i+2 < len(data) && data[i+2] == 'Z'
}

// leftovers counts what a lab of a state folder leaves on the host.
type leftovers struct {
	Namespaces int // plab-<lab> and plab-<lab>--* under /run/netns
	HostLinks  int // veths and bridges in this namespace that the lab could have made
	NFTables   int // nftables tables named peerlab in the lab's namespaces
	BIRDs      int // bird processes whose command line names the state folder
	Agents     int // `peerlab agent` processes whose command line names the state folder
	Inits      int // node inits (peerlab-init) whose binds name the state folder
	Mounts     int // mount entries naming the state folder, over every mount namespace
	State      int // entries under labs/, logs/ and loopback/ of the state folder
}

// zero reports whether nothing is left.
func (l leftovers) zero() bool { return l == leftovers{} }

// count counts what lab name of this state folder, with these nodes, left.
func (e *labEnv) count(name string, nodes []string) leftovers {
	e.t.Helper()
	var l leftovers
	entries, err := os.ReadDir(netns.RunDir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		e.t.Fatal(err)
	}
	var spaces []string
	for _, ent := range entries {
		n := ent.Name()
		if n == netns.HubNamespace(name) || strings.HasPrefix(n, netns.HubNamespace(name)+"--") {
			spaces = append(spaces, n)
		}
	}
	l.Namespaces = len(spaces)
	for _, ns := range spaces {
		out, err := exec.Command("ip", "netns", "exec", ns, "nft", "-j", "list", "tables").Output()
		if err != nil {
			continue // an empty mount point left by a crash has no tables
		}
		l.NFTables += countNFTables(e.t, out, "peerlab")
	}
	l.HostLinks = e.hostLinks(name, nodes)
	for _, p := range processesNaming(e.dir) {
		switch {
		case filepath.Base(p.argv[0]) == "bird":
			l.BIRDs++
		case filepath.Base(p.argv[0]) == "gobgpd":
			l.Agents++
		}
	}
	l.Inits, l.Mounts = nodeHostsNaming(e.dir)
	for _, sub := range []string{"labs", "logs", "loopback"} {
		ents, _ := os.ReadDir(filepath.Join(e.dir, sub))
		l.State += len(ents)
	}
	return l
}

// nodeHostsNaming counts the live node hosts whose environment (their
// binds) names dir — the inits, and the gobgp nodes' agents, which are
// their nodes' hosts — and the mount entries naming dir in every mount
// namespace of the host (one process looked at per namespace).
func nodeHostsNaming(dir string) (inits, mounts int) {
	entries, _ := os.ReadDir("/proc")
	seen := map[string]bool{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pidGone(pid) {
			continue
		}
		p := filepath.Join("/proc", e.Name())
		if comm, _ := os.ReadFile(filepath.Join(p, "comm")); slices.Contains([]string{"peerlab-init", "gobgpd"}, strings.TrimSpace(string(comm))) {
			if env, _ := os.ReadFile(filepath.Join(p, "environ")); bytes.Contains(env, []byte("PEERLAB_INIT_BINDS=")) && bytes.Contains(env, []byte(dir)) {
				inits++
			}
		}
		ns, err := os.Readlink(filepath.Join(p, "ns", "mnt"))
		if err != nil || seen[ns] {
			continue
		}
		seen[ns] = true
		data, _ := os.ReadFile(filepath.Join(p, "mountinfo"))
		mounts += bytes.Count(data, []byte(dir))
	}
	return inits, mounts
}

// countNFTables counts the tables called name in `nft -j list tables` output.
func countNFTables(t testing.TB, out []byte, name string) int {
	var doc struct {
		NFTables []struct {
			Table *struct {
				Name string `json:"name"`
			} `json:"table"`
		} `json:"nftables"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("nft -j list tables: %v\n%s", err, out)
	}
	n := 0
	for _, item := range doc.NFTables {
		if item.Table != nil && item.Table.Name == name {
			n++
		}
	}
	return n
}

// hostLinks counts the veths and bridges in the test's own namespace whose
// names the lab could have given them: the hub bridge, a node's hub-side
// veth ("v" and a hash of lab and node, as internal/netns names it), a
// point-to-point link end (p-…). A lab makes all of them inside its own
// namespaces, so there must never be one here.
func (e *labEnv) hostLinks(name string, nodes []string) int {
	e.t.Helper()
	out, err := exec.Command("ip", "-j", "-d", "link", "show").Output()
	if err != nil {
		e.t.Fatalf("ip link show: %v", err)
	}
	var links []struct {
		Name     string `json:"ifname"`
		LinkInfo struct {
			Kind string `json:"info_kind"`
		} `json:"linkinfo"`
	}
	if err := json.Unmarshal(out, &links); err != nil {
		e.t.Fatalf("ip -j link show: %v", err)
	}
	names := map[string]bool{netns.BridgeName: true}
	for _, n := range nodes {
		names[hubIfName(name, n)] = true
	}
	count := 0
	for _, l := range links {
		if l.LinkInfo.Kind != "veth" && l.LinkInfo.Kind != "bridge" {
			continue
		}
		if names[l.Name] || strings.HasPrefix(l.Name, "p-") {
			count++
		}
	}
	return count
}

// hubIfName is internal/netns's name for node's veth end on the hub bridge.
func hubIfName(lab, node string) string {
	h := sha256.New()
	for _, p := range []string{lab, node} {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return "v" + hex.EncodeToString(h.Sum(nil))[:8]
}

// topologyNodeNames lists the nodes of a topology file.
func topologyNodeNames(t *testing.T, file string) []string {
	t.Helper()
	topo, err := topology.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, n := range topo.Nodes {
		out = append(out, n.Name)
	}
	return out
}
