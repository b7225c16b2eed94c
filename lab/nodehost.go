package lab

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/peerlab/peerlab/internal/netns"
	"github.com/peerlab/peerlab/internal/procname"
	"github.com/peerlab/peerlab/lab/agent"
	"github.com/peerlab/peerlab/lab/calicoctl"
	"github.com/peerlab/peerlab/lab/k8s"
	"github.com/peerlab/peerlab/lab/nodeinit"
	"github.com/peerlab/peerlab/lab/topology"
)

// In namespace mode every node is a host of its own (lab/nodeinit): its
// init is PID 1 of the node's PID namespace and holds its mount and UTS
// namespaces, and every process of the node (BIRD, nginx, agents, what
// `peerlab exec` runs) starts in all of them. The node's folder shows at
// the paths a real Calico/kubespray node has:
//
//	<node>/etc/calico        /etc/calico (confd/config/bird.cfg)
//	<node>/run               /var/run/calico and /var/run/bird (bird.ctl)
//	<node>/var/log/calico    /var/log/calico
//	<node>/var/lib/calico    /var/lib/calico (nodename)
//	<node>/etc/kubernetes    /etc/kubernetes (manifests/, ssl/)
//	<node>/etc/nginx         /etc/nginx (empty but on kubespray workers)

// hostReadyWait bounds how long a node's init may take to say ready.
const hostReadyWait = 10 * time.Second

// RunBuiltin runs the program a lab starts under a name of its own when
// argv[0] names one (the node init, nodeinit.Name) and reports whether it
// did. A program that embeds namespace-mode labs (peerlab's main, a test
// binary's TestMain) calls it first and exits with the code when handled:
// the lab starts node inits by re-executing /proc/self/exe.
func RunBuiltin(argv []string) (code int, handled bool) {
	if len(argv) == 0 {
		return 0, false
	}
	switch filepath.Base(argv[0]) {
	case nodeinit.Name:
		return nodeinit.Main(argv[1:], os.Stdout, os.Stderr), true
	case agent.ProcessName:
		procname.Set(argv[0])
		return agent.Main(argv[1:], os.Stderr), true
	case k8s.CalicoNodeName:
		procname.Set(argv[0])
		return k8s.CalicoNodeMain(argv[1:], os.Stdin, os.Stdout, os.Stderr), true
	case calicoctl.Name:
		return calicoctl.Main(context.Background(), argv[1:], os.Stdout, os.Stderr), true
	}
	return 0, false
}

// nodeBinds are the bind mounts of a node whose folder is dir.
func nodeBinds(dir string) []nodeinit.Bind {
	run := filepath.Join(dir, "run")
	return []nodeinit.Bind{
		{Source: filepath.Join(dir, "etc", "calico"), Target: "/etc/calico"},
		{Source: run, Target: "/var/run/calico"},
		{Source: run, Target: "/var/run/bird"},
		{Source: filepath.Join(dir, "var", "log", "calico"), Target: "/var/log/calico"},
		{Source: filepath.Join(dir, "var", "lib", "calico"), Target: "/var/lib/calico"},
		{Source: filepath.Join(dir, "etc", "kubernetes"), Target: "/etc/kubernetes"},
		// Empty but on kubespray workers: the host's nginx
		// configuration is no node's.
		{Source: filepath.Join(dir, "etc", "nginx"), Target: "/etc/nginx"},
	}
}

// routerBinds are the bind mounts of a node that stands in for a router (a
// gobgp node, its own host): the paths of a Calico or kubespray node all
// show one empty folder of the lab's, so the node sees none of the host's
// files there, and a lab of 1,000 routers makes one folder instead of
// 7,000.
func routerBinds(labDir string) []nodeinit.Bind {
	binds := nodeBinds("")
	empty := filepath.Join(labDir, "router-empty")
	for i := range binds {
		binds[i].Source = empty
	}
	return binds
}

// nodeHost is one node's init process.
type nodeHost struct {
	node string
	cmd  *exec.Cmd
	done chan struct{}
}

// nodeHosts are the inits of a lab's nodes.
type nodeHosts struct {
	mu    sync.Mutex
	hosts map[string]*nodeHost
}

// startHosts starts the init of every node of topo, a few at a time.
func (p *nsPlan) startHosts(ctx context.Context, topo *topology.Topology, log *zap.Logger) error {
	p.hosts = &nodeHosts{hosts: map[string]*nodeHost{}}
	var names []string
	for _, n := range topo.Nodes {
		if !selfHosting(n) {
			names = append(names, n.Name)
		}
	}
	return forEachNode(names, func(name string) error {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("node %s: %w", name, err)
		}
		dir, err := p.nodeDir(name)
		if err != nil {
			return err
		}
		h, err := p.startHost(topo.Node(name), dir)
		if err != nil {
			return fmt.Errorf("node %s: %w", name, err)
		}
		p.hosts.mu.Lock()
		p.hosts.hosts[name] = h
		p.hosts.mu.Unlock()
		log.Debug("node host up", zap.String("node", name), zap.Int("init", h.cmd.Process.Pid))
		return nil
	})
}

// selfHosting reports whether node n is its own host: a gobgp node's agent
// is PID 1 of the node (agent.HostFlag), so the node gets no init.
func selfHosting(n *topology.Node) bool { return n.Kind == topology.KindGoBGP }

// makeBinds creates the folders of binds on the host.
func makeBinds(binds []nodeinit.Bind) error {
	for _, b := range binds {
		if err := os.MkdirAll(b.Source, 0o755); err != nil {
			return fmt.Errorf("node host: %w", err)
		}
	}
	return nil
}

// startSelfHost starts cmd, a program that is its node's host (a gobgp
// node's agent, given agent.HostFlag), in node's network namespace and
// new PID, mount and UTS namespaces, with the node's binds in its
// environment, and records it as the node's host. The caller waits for
// cmd and then calls exited.
func (p *nsPlan) startSelfHost(node string, cmd *exec.Cmd) (exited func(), err error) {
	binds := routerBinds(p.dir)
	if err := makeBinds(binds[:1]); err != nil { // they all show one folder
		return nil, err
	}
	_, env := nodeinit.Command(node, binds)
	cmd.Env = append(cmd.Env, env)
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Cloneflags |= netns.HostCloneFlags
	if err := p.net.StartFromTemplate(node, p.tmpl, cmd); err != nil {
		return nil, fmt.Errorf("start %s as the host of node %s: %w", cmd.Args[0], node, err)
	}
	h := &nodeHost{node: node, cmd: cmd, done: make(chan struct{})}
	p.hosts.mu.Lock()
	p.hosts.hosts[node] = h
	p.hosts.mu.Unlock()
	return func() {
		p.hosts.mu.Lock()
		if p.hosts.hosts[node] == h {
			delete(p.hosts.hosts, node)
		}
		p.hosts.mu.Unlock()
		close(h.done)
	}, nil
}

// startHost creates the folders node n binds, starts its init in its
// network namespace and waits until the init is ready.
func (p *nsPlan) startHost(n *topology.Node, dir string) (*nodeHost, error) {
	binds := nodeBinds(dir)
	if err := makeBinds(binds); err != nil {
		return nil, err
	}
	args, env := nodeinit.Command(n.Name, binds)
	cmd := &exec.Cmd{
		// Not os.Executable(): /proc/self/exe still works when the
		// binary was replaced on disk while the lab runs.
		Path: "/proc/self/exe",
		Args: append([]string{nodeinit.Name}, args...),
		Env:  []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", env},
		Dir:  "/",
		SysProcAttr: &syscall.SysProcAttr{
			Cloneflags: netns.HostCloneFlags,
			// Its own process group: a Ctrl-C meant for the lab
			// reaches the lab only, which then stops its nodes.
			Setpgid: true,
		},
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("node init: %w", err)
	}
	var stderr strings.Builder
	cmd.Stderr = &limitedWriter{w: &stderr, left: 4096}
	if err := p.net.StartFromTemplate(n.Name, p.tmpl, cmd); err != nil {
		return nil, fmt.Errorf("start node init: %w", err)
	}
	h := &nodeHost{node: n.Name, cmd: cmd, done: make(chan struct{})}
	ready := make(chan error, 1)
	go func() {
		line, err := bufio.NewReader(out).ReadString('\n')
		if strings.TrimSpace(line) == nodeinit.Ready {
			ready <- nil
			_, _ = io.Copy(io.Discard, out)
		} else {
			ready <- fmt.Errorf("node init exited before it was ready (read %q: %v)", line, err)
		}
		_ = cmd.Wait()
		close(h.done)
	}()
	select {
	case err = <-ready:
	case <-time.After(hostReadyWait):
		err = fmt.Errorf("node init not ready after %v", hostReadyWait)
	}
	if err != nil {
		h.stop()
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			err = fmt.Errorf("%w: %s", err, msg)
		}
		return nil, fmt.Errorf("%w (the program running a namespace lab must call lab.RunBuiltin first)", err)
	}
	return h, nil
}

// initPID is the host pid of node's init, 0 when it has none.
func (p *nsPlan) initPID(node string) int {
	if p.hosts == nil {
		return 0
	}
	p.hosts.mu.Lock()
	defer p.hosts.mu.Unlock()
	if h := p.hosts.hosts[node]; h != nil {
		return h.cmd.Process.Pid
	}
	return 0
}

// stopHosts stops every node's init, which takes the node's remaining
// processes and its mounts with it.
func (p *nsPlan) stopHosts() {
	if p.hosts == nil {
		return
	}
	p.hosts.mu.Lock()
	hosts := p.hosts.hosts
	p.hosts.hosts = map[string]*nodeHost{}
	p.hosts.mu.Unlock()
	var wg sync.WaitGroup
	for _, h := range hosts {
		wg.Add(1)
		go func() { defer wg.Done(); h.stop() }()
	}
	wg.Wait()
}

// stop sends the init SIGTERM (it passes it on to the node's processes)
// and SIGKILL if it is still there after a grace period, and waits.
func (h *nodeHost) stop() {
	_ = h.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-h.done:
		return
	case <-time.After(3 * time.Second):
	}
	_ = h.cmd.Process.Kill()
	<-h.done
}

// startInHost starts cmd in all the namespaces of node's host.
func (p *nsPlan) startInHost(node string, cmd *exec.Cmd) error {
	pid := p.initPID(node)
	if pid == 0 {
		return fmt.Errorf("start %s: node %s has no running init", cmd.Path, node)
	}
	return netns.StartProcessIn(pid, cmd)
}

// limitedWriter keeps at most left bytes of what is written to it.
type limitedWriter struct {
	w    io.Writer
	left int
}

func (l *limitedWriter) Write(b []byte) (int, error) {
	n := len(b)
	if l.left <= 0 {
		return n, nil
	}
	if len(b) > l.left {
		b = b[:l.left]
	}
	l.left -= len(b)
	if _, err := l.w.Write(b); err != nil {
		return 0, err
	}
	return n, nil
}
