package lab

import (
	"bytes"
	"context"
	"fmt"
	"hash/fnv"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/peerlab/peerlab/lab/topology"
)

// hostYAML is a kubespray cluster on both BIRD versions with a GoBGP ToR;
// %s is the lab name.
const hostYAML = `name: %s
defaults: {asn: 64512, kind: bird, timers: {hold: 9s, keepalive: 3s, connect-retry: 1s}}
nodes:
  master: {address: 10.0.0.1, roles: [apiserver, calico-node]}
  worker1: {address: 10.0.0.2, kind: bird2, roles: [calico-node, kubespray-worker]}
  tor: {address: 10.0.0.9, kind: gobgp, asn: 65000}
peerings:
  - mesh: [master, worker1]
  - between: [master, tor]
`

// runInNode runs argv inside node (all its namespaces) and returns its
// standard output.
func runInNode(t *testing.T, l *Lab, node string, argv ...string) string {
	t.Helper()
	path, err := exec.LookPath(argv[0])
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	cmd := exec.Command(path, argv[1:]...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := l.ns.startInHost(node, cmd); err != nil {
		t.Fatalf("%s: %v: %v", node, argv, err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%s: %v: %v: %s", node, argv, err, errb.String())
	}
	return out.String()
}

// mountsNaming counts the mount entries naming dir in every mount
// namespace on the host (one process looked at per namespace).
func mountsNaming(dir string) int {
	entries, _ := os.ReadDir("/proc")
	seen := map[string]bool{}
	n := 0
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		ns, err := os.Readlink("/proc/" + e.Name() + "/ns/mnt")
		if err != nil || seen[ns] {
			continue
		}
		seen[ns] = true
		data, _ := os.ReadFile("/proc/" + e.Name() + "/mountinfo")
		n += strings.Count(string(data), dir)
	}
	return n
}

// TestNodeHost: in namespace mode each node has its own hostname,
// processes and files at the paths of a real node, and leaves no process
// nor mount behind.
func TestNodeHost(t *testing.T) {
	rolesRequire(t)
	t.Setenv(AgentExeEnv, builtPeerlab(t))
	h := fnv.New32a()
	fmt.Fprintf(h, "%s/%d", t.Name(), os.Getpid())
	name := fmt.Sprintf("nh%06x", h.Sum32()&0xffffff)
	topo, err := topology.Parse(name+".yaml", []byte(fmt.Sprintf(hostYAML, name)))
	if err != nil {
		t.Fatal(err)
	}
	state := t.TempDir()
	if hostMounts := mountsNaming(state); hostMounts != 0 {
		t.Fatalf("%d mounts name the fresh state folder", hostMounts)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	l, err := Up(ctx, topo, Options{Logger: zaptest.NewLogger(t), StateDir: state, Mode: ModeNamespace})
	if err != nil {
		t.Fatalf("up: %v", err)
	}
	downed := false
	t.Cleanup(func() {
		if !downed {
			_ = l.Down()
		}
	})
	waitFor(t, "calico-node of worker1 configured BIRD", 30*time.Second, func() (bool, error) {
		return strings.Contains(readNodeFile(t, l, "worker1", "var/log/calico/confd.log"), "has been updated"), nil
	})

	wantProcs := map[string][]string{
		"master":  {"peerlab-init", "bird", "calico-node"},
		"worker1": {"peerlab-init", "bird", "calico-node", "nginx"},
		// A gobgp node is one process, as a gobgpd container is: its
		// agent is PID 1 of the node.
		"tor": {"gobgpd"},
	}
	var inits []int
	for node, want := range wantProcs {
		if got := strings.TrimSpace(runInNode(t, l, node, "hostname")); got != node {
			t.Errorf("hostname in %s is %q", node, got)
		}
		comms := strings.Fields(runInNode(t, l, node, "ps", "-eo", "comm="))
		for _, c := range comms {
			if c != "ps" && !slices.Contains(want, c) {
				t.Errorf("ps in %s shows %q, which is not one of the node's %v", node, c, want)
			}
		}
		for _, w := range want {
			if !slices.Contains(comms, w) {
				t.Errorf("ps in %s does not show %s: %v", node, w, comms)
			}
		}
		if n := strings.Count(" "+strings.Join(comms, " ")+" ", " bird "); n > 1 {
			t.Errorf("%s sees %d bird processes", node, n)
		}
		inits = append(inits, l.ns.initPID(node))
	}
	if got := strings.TrimSpace(runInNode(t, l, "tor", "ps", "-o", "comm=", "-p", "1")); got != "gobgpd" {
		t.Errorf("PID 1 of tor is %q, want gobgpd (the agent is the node's host)", got)
	}
	for _, node := range []string{"master", "worker1"} {
		inNode := runInNode(t, l, node, "cat", "/etc/calico/confd/config/bird.cfg")
		if inNode == "" || inNode != readNodeFile(t, l, node, "etc/calico/confd/config/bird.cfg") {
			t.Errorf("%s: /etc/calico/confd/config/bird.cfg is not the node's bird.cfg", node)
		}
		for _, sock := range []string{"/var/run/calico/bird.ctl", "/var/run/bird/bird.ctl"} {
			runInNode(t, l, node, "test", "-S", sock)
		}
		if got := strings.TrimSpace(runInNode(t, l, node, "cat", "/var/lib/calico/nodename")); got != node {
			t.Errorf("%s: /var/lib/calico/nodename says %q", node, got)
		}
		runInNode(t, l, node, "test", "-s", "/etc/kubernetes/ssl/ca.crt")
		runInNode(t, l, node, "test", "-s", "/var/log/calico/confd.log")
	}
	runInNode(t, l, "worker1", "test", "-s", "/etc/kubernetes/manifests/nginx-proxy.yml")
	if !strings.Contains(runInNode(t, l, "worker1", "cat", "/etc/nginx/nginx.conf"), "127.0.0.1:6443") {
		t.Errorf("worker1's /etc/nginx/nginx.conf is not kubespray's proxy configuration")
	}
	// The binds live in the nodes' mount namespaces only.
	if n := mountsNaming(state); n < 6*3 {
		t.Errorf("only %d mounts name the lab's folder while it runs; want the nodes' binds", n)
	}
	// The host has the tmpfs of the node folders (nodes_tmpfs.go) and
	// nothing else of the lab.
	data, _ := os.ReadFile("/proc/self/mountinfo")
	for _, line := range strings.Split(string(data), "\n") {
		if !strings.Contains(line, state) {
			continue
		}
		if f := strings.Fields(line); len(f) < 5 || f[4] != nodesDir(LabDir(state, name)) {
			t.Errorf("a bind of the lab shows in the host's mount namespace: %s", line)
		}
	}

	if err := l.Down(); err != nil {
		t.Fatalf("down: %v", err)
	}
	downed = true
	for _, pid := range inits {
		if pid == 0 || !processGone(pid) {
			t.Errorf("node init %d still runs after down", pid)
		}
	}
	if n := mountsNaming(state); n != 0 {
		t.Errorf("%d mounts name the lab's folder after down", n)
	}
}

// processGone reports whether pid has exited (a zombie counts as exited).
func processGone(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	i := bytes.LastIndexByte(data, ')')
	return i > 0 && i+2 < len(data) && data[i+2] == 'Z'
}

// TestNodeDiesWithItsInit: when a node's init dies (SIGKILL), the kernel
// kills every process of the node's PID namespace, tracked by the lab or
// not.
func TestNodeDiesWithItsInit(t *testing.T) {
	requireBIRD(t)
	h := fnv.New32a()
	fmt.Fprintf(h, "%s/%d", t.Name(), os.Getpid())
	name := fmt.Sprintf("nd%06x", h.Sum32()&0xffffff)
	topo, err := topology.Parse(name+".yaml", []byte(fmt.Sprintf("name: %s\ndefaults: {asn: 64512, kind: bird}\nnodes:\n  n1: {address: 10.0.0.1}\n", name)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	l, err := Up(ctx, topo, Options{Logger: zaptest.NewLogger(t), StateDir: t.TempDir(), Mode: ModeNamespace})
	if err != nil {
		t.Fatalf("up: %v", err)
	}
	defer func() { _ = l.Down() }() // BIRD is gone by then: Down may report it
	sleep := exec.Command("sleep", "600")
	if err := l.ns.startInHost("n1", sleep); err != nil {
		t.Fatal(err)
	}
	birdPID := l.Node("n1").(BIRDNode).Pid()
	init := l.ns.initPID("n1")
	if err := syscall.Kill(init, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := sleep.Wait(); err == nil {
		t.Error("sleep in the node exited 0; want it killed with the node")
	}
	waitFor(t, "the node's BIRD killed with its init", 10*time.Second, func() (bool, error) {
		return processGone(birdPID), nil
	})
}
