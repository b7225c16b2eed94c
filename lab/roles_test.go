package lab

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/peerlab/peerlab/internal/bird"
	"github.com/peerlab/peerlab/internal/testgate"
	"github.com/peerlab/peerlab/lab/k8s"
	"github.com/peerlab/peerlab/lab/topology"
)

// The kubespray story of docs/kubespray.md, end to end with real BIRD 1.6
// and real nginx: one master (apiserver, calico-node), two workers
// (calico-node, kubespray-worker) reaching the API server through
// nginx-proxy.

// rolesYAML is the story's cluster; %s is the lab name.
const rolesYAML = `name: %s
defaults: {asn: 64512, kind: bird, timers: {hold: 9s, keepalive: 3s, connect-retry: 1s}}
nodes:
  master: {address: 10.0.0.1, roles: [apiserver, calico-node], prefixes: [192.168.0.0/26]}
  worker1: {address: 10.0.0.2, roles: [calico-node, kubespray-worker], prefixes: [192.168.1.0/26]}
  worker2: {address: 10.0.0.3, roles: [calico-node, kubespray-worker], prefixes: [192.168.2.0/26]}
peerings:
  - mesh: [master, worker1, worker2]
`

// notReadyWorker1 is what calico-node -bird-ready prints on master and
// worker2 while worker1's BIRD has no peers.
const notReadyWorker1 = "calico/node is not ready: BIRD is not ready: BGP not established with 10.0.0.2"

// rolesRequire checks for root, BIRD and nginx with the stream module.
func rolesRequire(t *testing.T) {
	t.Helper()
	requireBIRD(t)
	if _, err := findNginx(context.Background()); err != nil {
		testgate.SkipOrFail(t, "%v", err)
	}
}

// rolesLab brings the story's cluster up as a lab named after the test.
func rolesLab(t *testing.T) *Lab {
	t.Helper()
	h := fnv.New32a()
	fmt.Fprintf(h, "%s/%d", t.Name(), os.Getpid())
	name := fmt.Sprintf("ks%06x", h.Sum32()&0xffffff)
	topo, err := topology.Parse(name+".yaml", []byte(fmt.Sprintf(rolesYAML, name)))
	if err != nil {
		t.Fatalf("topology: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	l, err := Up(ctx, topo, Options{Logger: zaptest.NewLogger(t), StateDir: t.TempDir(), Mode: ModeNamespace})
	if err != nil {
		t.Fatalf("up: %v", err)
	}
	t.Cleanup(func() {
		if err := l.Down(); err != nil {
			t.Errorf("down: %v", err)
		}
	})
	return l
}

func TestKubesprayRoles(t *testing.T) {
	rolesRequire(t)
	cases := []struct {
		name string
		run  func(t *testing.T, l *Lab)
	}{
		{"apiserver-proxy-down", storyProxyDown},
		{"apiserver-proxy-bad-upstream", storyBadUpstream},
		{"apiserver-down", storyAPIServerDown},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := rolesLab(t)
			waitEstablished(t, l, "before the fault")
			checkReady(t, l)
			checkFiles(t, l)
			tc.run(t, l)
		})
	}
}

// storyProxyDown: worker1 loses nginx-proxy and restarts calico-node.
func storyProxyDown(t *testing.T, l *Lab) {
	ctx := context.Background()
	f := &topology.Fault{Name: "apiserver-proxy-down", Node: "worker1"}
	if err := l.InjectFault(ctx, f); err != nil {
		t.Fatalf("inject: %v", err)
	}
	if _, err := os.Stat(l.roles.proxies["worker1"].manifestPath()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("nginx-proxy manifest still there: %v", err)
	}
	waitWorker1Cut(t, l)
	// The agent keeps retrying and BIRD keeps running without peers.
	time.Sleep(3 * time.Second)
	if names := meshProtocols(t, l, "worker1"); len(names) != 0 {
		t.Errorf("worker1's BIRD has Mesh_ protocols %v while its API server is unreachable", names)
	}
	if code, err := getIn(t, l, "worker1", "https://127.0.0.1:6443/healthz"); err == nil {
		t.Errorf("https://127.0.0.1:6443/healthz from worker1 answered %d with nginx-proxy down", code)
	}
	if code, err := getIn(t, l, "worker1", "http://127.0.0.1:8081/healthz"); err == nil {
		t.Errorf("http://127.0.0.1:8081/healthz from worker1 answered %d with nginx-proxy down", code)
	}
	confd := readNodeFile(t, l, "worker1", "var/log/calico/confd.log")
	if !strings.Contains(confd, "failed to connect to the API server at https://127.0.0.1:6443") || !strings.Contains(confd, "connection refused") {
		t.Errorf("worker1's confd.log does not show the refused API server:\n%s", confd)
	}
	checkNotReady(t, l)
	if err := l.HealFault(ctx, f); err != nil {
		t.Fatalf("heal: %v", err)
	}
	waitEstablished(t, l, "after heal")
	if names := meshProtocols(t, l, "worker1"); len(names) != 2 {
		t.Errorf("worker1's Mesh_ protocols after heal: %v, want two", names)
	}
	checkReady(t, l)
}

// storyBadUpstream: worker1's nginx points at a master that does not exist.
func storyBadUpstream(t *testing.T, l *Lab) {
	ctx := context.Background()
	f := &topology.Fault{Name: "apiserver-proxy-bad-upstream", Node: "worker1", Params: map[string]string{"address": topology.DefaultBadUpstream}}
	if err := l.InjectFault(ctx, f); err != nil {
		t.Fatalf("inject: %v", err)
	}
	if conf := readNodeFile(t, l, "worker1", "etc/nginx/nginx.conf"); !strings.Contains(conf, "server 10.255.255.1:6443;") || strings.Contains(conf, "server 10.0.0.1:6443;") {
		t.Errorf("nginx.conf upstream not rewritten:\n%s", conf)
	}
	waitWorker1Cut(t, l)
	// nginx itself is healthy: its health server answers while the API
	// server behind it cannot be reached. That is the difference from
	// apiserver-proxy-down.
	if code, err := getIn(t, l, "worker1", "http://127.0.0.1:8081/healthz"); err != nil || code != http.StatusOK {
		t.Errorf("http://127.0.0.1:8081/healthz from worker1 = %d, %v; want 200 (nginx runs)", code, err)
	}
	if code, err := getIn(t, l, "worker1", "https://127.0.0.1:6443/healthz"); err == nil {
		t.Errorf("https://127.0.0.1:6443/healthz from worker1 answered %d through a bad upstream", code)
	}
	checkNotReady(t, l)
	if err := l.HealFault(ctx, f); err != nil {
		t.Fatalf("heal: %v", err)
	}
	waitEstablished(t, l, "after heal")
	if code, err := getIn(t, l, "worker1", "https://127.0.0.1:6443/healthz"); err != nil || code != http.StatusOK {
		t.Errorf("https://127.0.0.1:6443/healthz from worker1 after heal = %d, %v", code, err)
	}
}

// storyAPIServerDown: the API server stops; BGP keeps what confd rendered.
func storyAPIServerDown(t *testing.T, l *Lab) {
	ctx := context.Background()
	f := &topology.Fault{Name: "apiserver-down", Node: "master"}
	if err := l.InjectFault(ctx, f); err != nil {
		t.Fatalf("inject: %v", err)
	}
	if code, err := getIn(t, l, "worker2", "https://127.0.0.1:6443/healthz"); err == nil {
		t.Errorf("https://127.0.0.1:6443/healthz from worker2 answered %d with the API server down", code)
	}
	if code, err := getIn(t, l, "worker2", "http://127.0.0.1:8081/healthz"); err != nil || code != http.StatusOK {
		t.Errorf("nginx health on worker2 = %d, %v; want 200", code, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(readNodeFile(t, l, "worker2", "var/log/calico/confd.log"), "failed to connect to the API server") {
		if time.Now().After(deadline) {
			t.Fatalf("worker2's confd never logged the API server down:\n%s", readNodeFile(t, l, "worker2", "var/log/calico/confd.log"))
		}
		time.Sleep(250 * time.Millisecond)
	}
	// Running calico-nodes keep their peers: every session stays up.
	waitEstablished(t, l, "with the API server down")
	checkReady(t, l)
	if err := l.HealFault(ctx, f); err != nil {
		t.Fatalf("heal: %v", err)
	}
	if code, err := getIn(t, l, "worker2", "https://127.0.0.1:6443/healthz"); err != nil || code != http.StatusOK {
		t.Errorf("https://127.0.0.1:6443/healthz from worker2 after heal = %d, %v", code, err)
	}
}

// waitEstablished waits until every session end is Established.
func waitEstablished(t *testing.T, l *Lab, when string) {
	t.Helper()
	waitAll(t, l, "every session Established "+when, 40*time.Second, func(s SessionStatus) string {
		if !s.Established() {
			return "not Established"
		}
		return ""
	})
}

// waitWorker1Cut waits until master's and worker2's protocols to worker1
// are not Established and worker1's BIRD has no Mesh_ protocol.
func waitWorker1Cut(t *testing.T, l *Lab) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var problems []string
		ss, _ := l.Sessions(context.Background())
		seen := map[string]bool{}
		for _, s := range ss {
			if s.Remote == "worker1" {
				seen[s.Local] = true
				if s.Established() {
					problems = append(problems, s.Local+"->worker1 still Established")
				}
			}
		}
		for _, n := range []string{"master", "worker2"} {
			if !seen[n] {
				problems = append(problems, n+" has no protocol to worker1")
			}
		}
		if names := meshProtocols(t, l, "worker1"); len(names) > 0 {
			problems = append(problems, fmt.Sprintf("worker1 still has %v", names))
		}
		if len(problems) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("worker1 never cut off: %s", strings.Join(problems, "; "))
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// meshProtocols lists the Mesh_ BGP protocols of node's BIRD.
func meshProtocols(t *testing.T, l *Lab, node string) []string {
	t.Helper()
	b := l.Node(node).(*birdNode)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var names []string
	err := b.cmd(ctx, func(c *bird.Client) error {
		protos, err := c.ShowProtocols(ctx)
		for _, p := range protos {
			if p.Proto == "BGP" && strings.HasPrefix(p.Name, "Mesh_") {
				names = append(names, p.Name)
			}
		}
		return err
	})
	if err != nil {
		t.Fatalf("%s: show protocols: %v", node, err)
	}
	return names
}

// checkReady asserts every calico-node is ready.
func checkReady(t *testing.T, l *Lab) {
	t.Helper()
	for _, r := range l.Readiness(context.Background()) {
		if !r.Ready {
			t.Errorf("%s not ready: %s", r.Node, r.Message)
		}
	}
}

// checkNotReady asserts master and worker2 say exactly Calico's message
// about worker1, through the lab and through `peerlab calico-node
// --bird-ready` (the strict rule, as within calico-node's first 30 s).
func checkNotReady(t *testing.T, l *Lab) {
	t.Helper()
	got := map[string]NodeReadiness{}
	for _, r := range l.Readiness(context.Background()) {
		got[r.Node] = r
	}
	for _, n := range []string{"master", "worker2"} {
		if r := got[n]; r.Ready || r.Message != notReadyWorker1 {
			t.Errorf("%s readiness = %+v, want %q", n, r, notReadyWorker1)
		}
		dir := l.Node(n).(*birdNode).spec.Dir
		cmd := exec.Command(builtPeerlab(t), "calico-node", "--bird-ready", "--threshold-time", "1h")
		cmd.Env = append(os.Environ(), "PEERLAB_NODE_DIR="+dir)
		out, err := cmd.Output()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 || string(out) != notReadyWorker1+"\n" {
			t.Errorf("peerlab calico-node --bird-ready on %s: %q, %v; want %q and exit status 1", n, out, err, notReadyWorker1)
		}
	}
	// The agent writes the verdict to readiness.log every 2 s when it changed.
	deadline := time.Now().Add(6 * time.Second)
	for !strings.HasSuffix(readNodeFile(t, l, "master", "var/log/calico/readiness.log"), " "+notReadyWorker1+"\n") {
		if time.Now().After(deadline) {
			t.Errorf("master's readiness.log does not end with %q:\n%s", notReadyWorker1, readNodeFile(t, l, "master", "var/log/calico/readiness.log"))
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// checkFiles asserts the files a kubespray node has.
func checkFiles(t *testing.T, l *Lab) {
	t.Helper()
	for _, n := range []string{"master", "worker1", "worker2"} {
		if !strings.Contains(readNodeFile(t, l, n, "etc/kubernetes/ssl/ca.crt"), "BEGIN CERTIFICATE") {
			t.Errorf("%s has no ca.crt", n)
		}
		if cfg := readNodeFile(t, l, n, "etc/calico/confd/config/bird.cfg"); strings.Count(cfg, "protocol bgp Mesh_") != 2 {
			t.Errorf("%s's confd bird.cfg has not two Mesh_ peers:\n%s", n, cfg)
		}
	}
	for _, n := range []string{"worker1", "worker2"} {
		conf := readNodeFile(t, l, n, "etc/nginx/nginx.conf")
		for _, want := range []string{"least_conn;", "server 10.0.0.1:6443;", "listen        127.0.0.1:6443;", "proxy_connect_timeout 1s;", "listen 8081;"} {
			if !strings.Contains(conf, want) {
				t.Errorf("%s's nginx.conf lacks %q", n, want)
			}
		}
		if !strings.Contains(readNodeFile(t, l, n, "etc/kubernetes/manifests/nginx-proxy.yml"), "name: nginx-proxy") {
			t.Errorf("%s has no nginx-proxy manifest", n)
		}
	}
}

// readNodeFile reads a file under node's folder, "" when missing.
func readNodeFile(t *testing.T, l *Lab, node, rel string) string {
	t.Helper()
	data, _ := os.ReadFile(filepath.Join(l.Node(node).(*birdNode).spec.Dir, filepath.FromSlash(rel)))
	return string(data)
}

// getIn GETs url from inside node's namespace, trusting the lab's CA.
func getIn(t *testing.T, l *Lab, node, url string) (int, error) {
	t.Helper()
	b := l.Node(node).(*birdNode)
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		var conn net.Conn
		err := b.spec.Namespace.Do(func() (err error) {
			conn, err = (&net.Dialer{Timeout: 2 * time.Second}).DialContext(ctx, network, addr)
			return err
		})
		return conn, err
	}
	c := k8s.NewClient(l.roles.ca.Pool(), dial)
	c.Timeout = 4 * time.Second
	code, _, err := k8s.Get(context.Background(), c, url)
	return code, err
}
