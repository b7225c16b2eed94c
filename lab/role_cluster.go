package lab

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/peerlab/peerlab/internal/bird"
	"github.com/peerlab/peerlab/internal/netns"
	"github.com/peerlab/peerlab/lab/calicoctl"
	"github.com/peerlab/peerlab/lab/k8s"
	"github.com/peerlab/peerlab/lab/topology"
)

// The cluster as the API server stand-ins show it to kubectl
// (k8s.Cluster): every lab node with a role is a Kubernetes node, every
// calico-node runs a calico-node-xxxxx pod of the calico-node DaemonSet,
// and every kubespray worker whose nginx-proxy manifest is in place and
// whose nginx runs has the mirror pod nginx-proxy-<node>. Exec runs in the
// pod's node with the lab's tools first on PATH.

// Files of a lab's folder the CLI reads (state folder layout).
const (
	// toolsDirName holds the links a node's PATH starts with (calicoctl,
	// calico-node, birdcl when the host has none).
	toolsDirName = "bin"
	// kubeconfigName is the lab's admin kubeconfig (`peerlab kubeconfig`).
	kubeconfigName = "kubeconfig"
)

// ToolsDir is the folder of lab name's node tools, first on the PATH of
// what `peerlab exec` and `kubectl exec` run in a node.
func ToolsDir(stateDir, name string) string {
	return filepath.Join(LabDir(stateDir, name), toolsDirName)
}

// KubeconfigFile is lab name's admin kubeconfig, naming the first master.
func KubeconfigFile(stateDir, name string) string {
	return filepath.Join(LabDir(stateDir, name), kubeconfigName)
}

// NodeEnv is the environment a process of a node gets besides the
// caller's: PATH with the lab's tools first and KUBECONFIG.
func NodeEnv(toolsDir string) []string {
	return []string{
		"PATH=" + toolsDir + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"KUBECONFIG=" + k8s.KubeconfigPath,
		// kubectl 1.29 (Debian trixie's) streams exec over WebSocket only
		// when asked; from 1.30 it is the default. The stand-in speaks no SPDY.
		"KUBECTL_REMOTE_COMMAND_WEBSOCKETS=true",
	}
}

// writeTools links the lab's node tools to the running executable (it
// dispatches on argv[0], RunBuiltin) and birdcl to BIRD 2's real one when
// the host has no BIRD 1.6 birdcl.
func writeTools(dir string) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("node tools: find this executable: %w", err)
	}
	if exe, err = filepath.EvalSymlinks(exe); err != nil {
		return fmt.Errorf("node tools: %w", err)
	}
	links := map[string]string{k8s.CalicoNodeName: exe, calicoctl.Name: exe}
	if _, err := exec.LookPath("birdcl"); err != nil {
		if b2 := filepath.Join(filepath.Dir(bird.DefaultBinaries(bird.Bird2).Birdc), "birdcl"); fileExists(b2) {
			links["birdcl"] = b2
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("node tools: %w", err)
	}
	for name, target := range links {
		p := filepath.Join(dir, name)
		_ = os.Remove(p)
		if err := os.Symlink(target, p); err != nil {
			return fmt.Errorf("node tools: %w", err)
		}
	}
	return nil
}

// probePeriod is how often kubelet runs calico-node's readiness probe.
const probePeriod = 10 * time.Second

// fileExists reports whether path exists.
func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// labCluster implements k8s.Cluster over a lab's roles.
type labCluster struct {
	topo    *topology.Topology
	roles   *clusterRoles
	ns      *nsPlan
	tools   string
	created time.Time
}

// Nodes implements k8s.Cluster: the nodes with a role, Ready while their
// calico-node runs (or always, without one).
func (c *labCluster) Nodes(context.Context) []k8s.NodeState {
	var out []k8s.NodeState
	for _, n := range c.topo.Nodes {
		if len(n.Roles) == 0 {
			continue
		}
		st := k8s.NodeState{Name: n.Name, Address: n.Address, Ready: true, Created: c.created}
		if n.HasRole(topology.RoleAPIServer) {
			st.Roles = []string{"control-plane"}
		}
		out = append(out, st)
	}
	return out
}

// Pods implements k8s.Cluster.
func (c *labCluster) Pods(ctx context.Context) []k8s.PodState {
	var out []k8s.PodState
	for _, name := range c.roles.order {
		out = append(out, c.roles.calico[name].pod(ctx))
	}
	names := make([]string, 0, len(c.roles.proxies))
	for name := range c.roles.proxies {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		// nginx may run without the lab's knowing: started by hand in
		// the node, as kubelet would start the static pod.
		proxy := c.roles.proxies[name]
		running := proxy.nginxSeen(c.ns.namespace(name).Path())
		if p, ok := proxy.pod(c.topo.Node(name).Address, running); ok {
			out = append(out, p)
		}
	}
	return out
}

// podNode returns the calico-node or proxy of pod name. It reads names
// only: no readiness probe runs for a log or an exec.
func (c *labCluster) podNode(_ context.Context, pod string) (string, *calicoNode, bool) {
	for _, name := range c.roles.order {
		if k8s.DaemonSetPodName("calico-node", name) == pod {
			return name, c.roles.calico[name], true
		}
	}
	for name, p := range c.roles.proxies {
		if "nginx-proxy-"+name != pod {
			continue
		}
		running := p.nginxSeen(c.ns.namespace(name).Path())
		if _, ok := p.pod(c.topo.Node(name).Address, running); ok {
			return name, nil, true
		}
	}
	return "", nil, false
}

// nginxSeen reports whether an nginx process runs in the node's network
// namespace nsPath, looked up (a walk of /proc) at most once per
// podProbeTTL: the API stand-in lists pods for every call it serves.
func (p *nginxProxy) nginxSeen(nsPath string) bool {
	p.seenMu.Lock()
	defer p.seenMu.Unlock()
	if p.seenAt.IsZero() || time.Since(p.seenAt) >= podProbeTTL {
		p.seen, p.seenAt = netns.HasProcess(nsPath, "nginx"), time.Now()
	}
	return p.seen
}

// podProbeTTL is how long the API stand-in reuses a node's readiness
// verdict: kubelet probes every 10 s and the API shows the last result,
// so many API calls at once cost one probe per node, not one per call.
const podProbeTTL = time.Second

// podReadiness is readiness for the API stand-in, probed at most once per
// podProbeTTL.
func (c *calicoNode) podReadiness(ctx context.Context) string {
	c.probeMu.Lock()
	defer c.probeMu.Unlock()
	if !c.probed.IsZero() && time.Since(c.probed) < podProbeTTL {
		return c.probeMsg
	}
	msg := c.readiness(ctx)
	if ctx.Err() == nil {
		c.probed, c.probeMsg = time.Now(), msg
	}
	return msg
}

// Logs implements k8s.Cluster: calico-node's log is what its confd and
// BIRD wrote, in time order; nginx-proxy's is nginx's error log.
func (c *labCluster) Logs(ctx context.Context, pod, _ string) ([]byte, error) {
	node, cn, ok := c.podNode(ctx, pod)
	if !ok {
		return nil, fmt.Errorf("pod %s is gone", pod)
	}
	if cn == nil {
		data, err := os.ReadFile(c.roles.proxies[node].cfg.ErrorLog)
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return data, err
	}
	return cn.logs()
}

// Exec implements k8s.Cluster: argv runs in the pod's node.
func (c *labCluster) Exec(ctx context.Context, pod, _ string, argv []string, stdout, stderr io.Writer) (int, error) {
	node, _, ok := c.podNode(ctx, pod)
	if !ok {
		return 0, fmt.Errorf("pod %s is gone", pod)
	}
	env := NodeEnv(c.tools)
	path, err := lookPathIn(strings.TrimPrefix(env[0], "PATH="), argv[0])
	if err != nil {
		fmt.Fprintf(stderr, "exec: %q: executable file not found in $PATH\n", argv[0])
		return 127, nil
	}
	cmd := exec.CommandContext(ctx, path, argv[1:]...)
	cmd.Args[0] = argv[0]
	cmd.Env, cmd.Dir, cmd.Stdout, cmd.Stderr = env, "/", stdout, stderr
	if err := c.ns.startInHost(node, cmd); err != nil {
		return 0, err
	}
	var ee *exec.ExitError
	if err := cmd.Wait(); errors.As(err, &ee) {
		return ee.ExitCode(), nil
	} else if err != nil {
		return 0, err
	}
	return 0, nil
}

// lookPathIn finds name in the folders of path.
func lookPathIn(path, name string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	for _, d := range filepath.SplitList(path) {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", exec.ErrNotFound
}

// pod is calico-node's pod now: Ready by the real readiness rule, with
// the readiness probe's failure as an event.
func (c *calicoNode) pod(ctx context.Context) k8s.PodState {
	msg := c.podReadiness(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	p := k8s.PodState{
		Name: k8s.DaemonSetPodName("calico-node", c.bird.spec.Node.Name), App: "calico-node", Owner: "calico-node",
		Node: c.bird.spec.Node.Name, IP: c.bird.spec.Node.Address, Container: "calico-node",
		Image:          "peerlab.local/calico-node:" + c.bird.version.String(),
		Command:        []string{"start_runit"},
		ReadinessProbe: []string{"/bin/calico-node", "-bird-ready"},
		Running:        c.cmd != nil, Ready: c.cmd != nil && msg == "",
		Restarts: c.restarts, Started: c.started,
	}
	p.Events = append(p.Events, k8s.Event{Type: "Normal", Reason: "Started", Message: "Started container calico-node",
		First: c.started, Last: c.started, Count: 1, Source: "kubelet"})
	switch {
	case msg == "":
		c.failingSince = time.Time{}
	case c.failingSince.IsZero():
		// Since when, as calico-node's readiness log tells it; else now.
		c.failingSince = now
		if at, ok := lastVerdict(c.file("var", "log", "calico", "readiness.log"), msg); ok && at.After(c.started) {
			c.failingSince = at
		}
	}
	if msg != "" {
		// kubelet probes every 10 s (the pod's periodSeconds).
		probes := now.Sub(c.failingSince) / probePeriod
		p.Events = append(p.Events, k8s.Event{Type: "Warning", Reason: "Unhealthy",
			Message: "Readiness probe failed: " + msg, First: c.failingSince, Last: c.failingSince.Add(probes * probePeriod),
			Count: int(probes) + 1, Source: "kubelet"})
	}
	return p
}

// lastVerdict is the time of the last line of a readiness log when that
// line is msg ("2006-01-02 15:04:05.000 <msg>", UTC).
func lastVerdict(path, msg string) (time.Time, bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		return time.Time{}, false
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	last := lines[len(lines)-1]
	const layout = "2006-01-02 15:04:05.000"
	if len(last) <= len(layout) || last[len(layout)+1:] != msg {
		return time.Time{}, false
	}
	at, err := time.Parse(layout, last[:len(layout)])
	return at, err == nil
}

// logs is calico-node's container log: confd's lines and BIRD's, in time
// order (both start with "YYYY-MM-DD hh:mm:ss").
func (c *calicoNode) logs() ([]byte, error) {
	var lines []string
	stamp := regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?`)
	for _, f := range []struct{ path, prefix string }{
		{c.file("var", "log", "calico", "confd.log"), ""},
		{c.bird.paths.Log, "bird: "},
	} {
		data, err := os.ReadFile(f.path)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			if line := sc.Text(); line != "" {
				if n := len(stamp.FindString(line)); f.prefix != "" && n > 0 {
					line = line[:n] + " " + f.prefix + strings.TrimSpace(line[n:])
				}
				lines = append(lines, line)
			}
		}
	}
	slices.SortStableFunc(lines, func(a, b string) int { return strings.Compare(stamp.FindString(a), stamp.FindString(b)) })
	return []byte(strings.Join(lines, "\n") + "\n"), nil
}

// pod is the nginx-proxy mirror pod of the worker at addr, while its
// manifest exists and nginx runs (running).
func (p *nginxProxy) pod(addr netip.Addr, running bool) (k8s.PodState, bool) {
	if !running || !fileExists(p.manifestPath()) {
		return k8s.PodState{}, false
	}
	p.mu.Lock()
	started := p.started
	p.mu.Unlock()
	if st, err := os.Stat(p.manifestPath()); err == nil && st.ModTime().After(started) {
		started = st.ModTime() // put back by hand: kubelet starts the pod then
	}
	return k8s.PodState{
		Name: "nginx-proxy-" + p.node, App: "kube-nginx", Node: p.node, IP: addr, Container: "nginx-proxy",
		Image: "peerlab.local/nginx:host", Command: []string{"nginx", "-g", "daemon off;"},
		Running: true, Ready: true, Started: started, Mirror: true,
		Events: []k8s.Event{{Type: "Normal", Reason: "Started", Message: "Started container nginx-proxy",
			First: started, Last: started, Count: 1, Source: "kubelet"}},
	}, true
}
