package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/peerlab/peerlab/lab/k8s"
)

// nginxBinary is the nginx found on the host and how to load its stream
// module.
type nginxBinary struct {
	path string
	// streamModule is the module file to load_module, "" when built in.
	streamModule string
}

// debianModules is where Debian installs nginx's dynamic modules
// (libnginx-mod-stream puts ngx_stream_module.so there).
const debianModules = "/usr/lib/nginx/modules"

// findNginx finds nginx (Debian's nginx-light) and checks `nginx -V` for
// the stream module kubespray's proxy needs.
func findNginx(ctx context.Context) (*nginxBinary, error) {
	path, err := exec.LookPath("nginx")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/nginx"); serr != nil {
			return nil, fmt.Errorf("role kubespray-worker needs nginx (Debian nginx-light and libnginx-mod-stream; .ci/install-daemons.sh installs them): %w", err)
		}
		path = "/usr/sbin/nginx"
	}
	out, err := exec.CommandContext(ctx, path, "-V").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("%s -V: %w: %s", path, err, strings.TrimSpace(string(out)))
	}
	v := string(out)
	switch {
	case strings.Contains(v, "--with-stream=dynamic"):
		mod := filepath.Join(debianModules, "ngx_stream_module.so")
		if _, err := os.Stat(mod); err != nil {
			return nil, fmt.Errorf("%s has the stream module as a dynamic module, but %s is missing (install libnginx-mod-stream)", path, mod)
		}
		return &nginxBinary{path: path, streamModule: mod}, nil
	case strings.Contains(v, "--with-stream"):
		return &nginxBinary{path: path}, nil
	}
	return nil, fmt.Errorf("%s is built without the stream module kubespray's nginx-proxy needs", path)
}

// nginxProxy is kubespray's nginx-proxy on a worker: a real nginx in the
// node's namespace, configured as kubespray renders it, with its files
// under the node's folder:
//
//	etc/nginx/nginx.conf                      kubespray's configuration
//	etc/kubernetes/manifests/nginx-proxy.yml  the static pod manifest
//	run/nginx.pid, var/log/nginx/error.log, var/lib/nginx/
type nginxProxy struct {
	node    string
	dir     string
	ns      Namespace
	bin     *nginxBinary
	log     *zap.Logger
	masters []netip.AddrPort

	mu      sync.Mutex
	cfg     k8s.NginxConfig
	started time.Time
	cmd     *exec.Cmd
	done    chan struct{}

	// seenAt and seen cache whether an nginx runs in the node, for the
	// API stand-in (role_cluster.go).
	seenMu sync.Mutex
	seenAt time.Time
	seen   bool
}

// newNginxProxy prepares the proxy of node towards the masters' API servers.
func newNginxProxy(node, dir string, ns Namespace, bin *nginxBinary, masters []netip.Addr, log *zap.Logger) *nginxProxy {
	p := &nginxProxy{node: node, dir: dir, ns: ns, bin: bin, log: log}
	for _, m := range masters {
		p.masters = append(p.masters, netip.AddrPortFrom(m, k8s.APIServerPort))
	}
	p.cfg = k8s.NginxConfig{
		Upstreams:    p.masters,
		ListenPort:   k8s.APIServerPort,
		HealthPort:   k8s.DefaultHealthPort,
		StreamModule: bin.streamModule,
		PIDFile:      p.path("run", "nginx.pid"),
		ErrorLog:     p.path("var", "log", "nginx", "error.log"),
		TempDir:      p.path("var", "lib", "nginx"),
	}
	return p
}

// path is a file under the node's folder.
func (p *nginxProxy) path(elem ...string) string {
	return filepath.Join(append([]string{p.dir}, elem...)...)
}

// confPath and manifestPath are kubespray's files.
func (p *nginxProxy) confPath() string { return p.path("etc", "nginx", "nginx.conf") }
func (p *nginxProxy) manifestPath() string {
	return p.path("etc", "kubernetes", "manifests", "nginx-proxy.yml")
}

// writeConfig renders cfg into nginx.conf.
func (p *nginxProxy) writeConfig(cfg k8s.NginxConfig) ([]byte, error) {
	var buf bytes.Buffer
	if err := k8s.RenderNginxConf(&buf, cfg); err != nil {
		return nil, err
	}
	if err := writeFile(p.confPath(), buf.Bytes()); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeManifest writes the static pod manifest for conf.
func (p *nginxProxy) writeManifest(conf []byte) error {
	var buf bytes.Buffer
	err := k8s.RenderManifest(&buf, k8s.ManifestConfig{HealthPort: k8s.DefaultHealthPort, ConfigDir: "/etc/nginx", NginxConf: conf})
	if err != nil {
		return err
	}
	return writeFile(p.manifestPath(), buf.Bytes())
}

// nginxArgs are the arguments that point nginx at the node's files.
func (p *nginxProxy) nginxArgs(extra ...string) []string {
	args := []string{"-p", p.path("var", "lib", "nginx") + "/", "-e", p.cfg.ErrorLog, "-c", p.confPath()}
	return append(args, extra...)
}

// start writes the configuration and manifest, checks the configuration
// with `nginx -t`, starts nginx in the node's namespace (in the
// foreground, as the pod's container runs it) and waits until it accepts
// connections on 127.0.0.1:6443.
func (p *nginxProxy) start(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		return fmt.Errorf("nginx-proxy of %s is already running", p.node)
	}
	for _, d := range []string{p.path("run"), filepath.Dir(p.cfg.ErrorLog), p.cfg.TempDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("nginx-proxy: %w", err)
		}
	}
	conf, err := p.writeConfig(p.cfg)
	if err != nil {
		return fmt.Errorf("nginx-proxy: %w", err)
	}
	if err := p.writeManifest(conf); err != nil {
		return fmt.Errorf("nginx-proxy: %w", err)
	}
	if out, err := exec.CommandContext(ctx, p.bin.path, p.nginxArgs("-t", "-q")...).CombinedOutput(); err != nil {
		return fmt.Errorf("nginx-proxy: nginx -t rejects %s: %w: %s", p.confPath(), err, strings.TrimSpace(string(out)))
	}
	stderr, err := os.OpenFile(p.path("var", "log", "nginx", "nginx.stderr"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("nginx-proxy: %w", err)
	}
	defer stderr.Close()
	cmd := exec.Command(p.bin.path, p.nginxArgs("-g", "daemon off;")...)
	cmd.Stdout, cmd.Stderr = stderr, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.ns.StartProcess(cmd); err != nil {
		return fmt.Errorf("nginx-proxy: start nginx: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	p.cmd, p.done, p.started = cmd, done, time.Now()
	if err := p.waitListening(ctx, done); err != nil {
		p.killLocked()
		return fmt.Errorf("nginx-proxy: %w; nginx said: %s", err, tail(p.cfg.ErrorLog, 512))
	}
	p.log.Info("nginx-proxy up", zap.Int("pid", cmd.Process.Pid), zap.String("config", p.confPath()))
	return nil
}

// waitListening waits until 127.0.0.1:6443 accepts a connection inside the
// namespace, nginx exits, or five seconds pass.
func (p *nginxProxy) waitListening(ctx context.Context, done <-chan struct{}) error {
	deadline := time.Now().Add(5 * time.Second)
	addr := fmt.Sprintf("127.0.0.1:%d", k8s.APIServerPort)
	for {
		var c net.Conn
		err := p.ns.Do(func() error {
			var err error
			c, err = net.DialTimeout("tcp", addr, 500*time.Millisecond)
			return err
		})
		if err == nil {
			_ = c.Close()
			return nil
		}
		select {
		case <-done:
			return errors.New("nginx exited")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nginx does not accept connections on %s: %w", addr, err)
		}
	}
}

// reload writes cfg to nginx.conf and makes the running nginx load it with
// `nginx -s reload`, as an operator (or kubespray) would.
func (p *nginxProxy) reload(ctx context.Context, cfg k8s.NginxConfig) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return fmt.Errorf("nginx-proxy of %s is not running", p.node)
	}
	if _, err := p.writeConfig(cfg); err != nil {
		return fmt.Errorf("nginx-proxy: %w", err)
	}
	p.cfg = cfg
	master := p.cmd.Process.Pid
	before := children(master)
	// Inside the node: the pid file holds the master's pid in the
	// node's PID namespace.
	var out bytes.Buffer
	sig := exec.CommandContext(ctx, p.bin.path, p.nginxArgs("-s", "reload")...)
	sig.Stdout, sig.Stderr = &out, &out
	err := p.ns.StartProcess(sig)
	if err == nil {
		err = sig.Wait()
	}
	if err != nil {
		return fmt.Errorf("nginx-proxy: nginx -s reload: %w: %s", err, strings.TrimSpace(out.String()))
	}
	// `nginx -s reload` only signals the master. Wait until the workers
	// of the old configuration are gone (they stop accepting at once and
	// leave within worker_shutdown_timeout) and new ones run, so that
	// every connection from now on meets the new configuration.
	deadline := time.Now().Add(12 * time.Second)
	for {
		now := children(master)
		if len(now) > 0 && !slices.ContainsFunc(now, func(pid int) bool { return slices.Contains(before, pid) }) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nginx-proxy: workers of the old configuration still run 12 s after nginx -s reload (before %v, now %v)", before, now)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// children lists the child processes of pid (nginx's workers).
func children(pid int) []int {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err != nil {
		return nil
	}
	var out []int
	for _, f := range strings.Fields(string(data)) {
		if n, err := strconv.Atoi(f); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// config is the configuration nginx runs on.
func (p *nginxProxy) config() k8s.NginxConfig {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cfg
}

// stop stops nginx (SIGTERM, fast shutdown; SIGKILL after five seconds).
// Stopping a stopped proxy does nothing.
func (p *nginxProxy) stop() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return nil
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		p.killLocked()
		return fmt.Errorf("nginx-proxy of %s ignored SIGTERM; killed", p.node)
	}
	p.cmd, p.done = nil, nil
	return nil
}

// killLocked kills nginx's process group (master and workers) and waits.
func (p *nginxProxy) killLocked() {
	if p.cmd == nil {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
	p.cmd, p.done = nil, nil
}
