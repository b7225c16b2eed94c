package server

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/peerlab/peerlab/client"
	"github.com/peerlab/peerlab/internal/testgate"
)

// requireRoot skips a test that needs root, except in CI where it fails.
func requireRoot(t *testing.T) {
	t.Helper()
	testgate.RequireRoot(t, "network namespaces")
}

var (
	buildOnce sync.Once
	buildDir  string
	peerlab   string
	grpcurl   string
	buildErr  error
)

// TestMain removes the binaries tools built (about 85 MB) once every test
// of the package has run.
func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// tools builds peerlab (the lab host program) and grpcurl (a go.mod tool
// dependency) into a temporary folder, once for the whole test binary.
func tools(t *testing.T) (peerlabBin, grpcurlBin string) {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "peerlab-server-test-")
		if buildErr != nil {
			return
		}
		peerlab = filepath.Join(buildDir, "peerlab")
		out, err := exec.Command("go", "build", "-o", peerlab, "github.com/peerlab/peerlab/cmd/peerlab").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("build peerlab: %v: %s", err, out)
			return
		}
		// grpcurl is a tool dependency in go.mod: built at the pinned version.
		grpcurl = filepath.Join(buildDir, "grpcurl")
		if out, err := exec.Command("go", "build", "-o", grpcurl, "github.com/fullstorydev/grpcurl/cmd/grpcurl").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("build grpcurl: %v: %s", err, out)
			return
		}
	})
	if buildErr != nil {
		testgate.SkipOrFail(t, "test tools unavailable: %v", buildErr)
	}
	return peerlab, grpcurl
}

// testServer is an in-process `peerlab serve` whose labs run in host
// processes of a freshly built peerlab.
type testServer struct {
	socket string
	dir    string
	client *client.Client
	stop   func()
}

// startServer serves on a Unix socket in a fresh state folder.
func startServer(t *testing.T) *testServer {
	t.Helper()
	return startServerIn(t, shortTempDir(t))
}

// startServerIn serves on a Unix socket in the state folder dir.
func startServerIn(t *testing.T, dir string) *testServer {
	t.Helper()
	return startServerWith(t, dir, ManagerOptions{})
}

// startServerWith serves on a Unix socket in the state folder dir with
// the manager options mo (its StateDir and HostCommand are set here).
func startServerWith(t *testing.T, dir string, mo ManagerOptions) *testServer {
	t.Helper()
	bin, _ := tools(t)
	mo.StateDir = dir
	mo.HostCommand = func(args []string) *exec.Cmd {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "PEERLAB_TEST_HOOKS=1")
		return cmd
	}
	ts := &testServer{socket: filepath.Join(dir, "serve.sock"), dir: dir}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	listening := make(chan struct{})
	go func() {
		served <- Serve(ctx, ServeOptions{
			Listen:      ListenOptions{Unix: ts.socket},
			Manager:     mo,
			Logger:      zaptest.NewLogger(t),
			OnListening: func(net.Addr) { close(listening) },
		})
	}()
	select {
	case <-listening:
	case err := <-served:
		cancel()
		t.Fatalf("serve: %v", err)
	}
	c, err := client.NewUnix(ts.socket)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	ts.client = c
	var once sync.Once
	ts.stop = func() {
		once.Do(func() {
			c.Close()
			cancel()
			if err := <-served; err != nil {
				t.Errorf("serve: %v", err)
			}
		})
	}
	t.Cleanup(ts.stop)
	return ts
}

// shortTempDir is a temporary folder with a short path (Unix socket paths
// are limited to 108 bytes).
func shortTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "plsrv")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// labName derives a lab name from the test name (at most 20 characters).
func labName(t *testing.T, suffix string) string {
	n := strings.ToLower(strings.TrimPrefix(t.Name(), "Test"))
	n = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, n)
	n = fmt.Sprintf("%.14s-%s", n, suffix)
	if len(n) > 20 {
		n = n[:20]
	}
	return n
}

// twoNodes is a topology of two gobgp nodes that peer.
func twoNodes(name string) string {
	return fmt.Sprintf(`name: %s
defaults: {asn: 64512, timers: {hold: 9s, keepalive: 3s, connect-retry: 1s}}
nodes:
  node1: {address: 10.0.0.1, prefixes: [10.244.1.0/24]}
  node2: {address: 10.0.0.2, prefixes: [10.244.2.0/24]}
peerings:
  - between: [node1, node2]
expect:
  - established: [node1, node2]
    within: 20s
`, name)
}

// ctxFor returns a context that ends after d or with the test.
func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
