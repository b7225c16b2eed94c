package k8s

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/peerlab/peerlab/internal/testgate"
)

// kubectlServer serves a store on 127.0.0.1 and returns the store and a
// kubeconfig naming the server with an admin certificate. It needs the
// kubectl binary: skipped without it unless CI=true.
func kubectlServer(t *testing.T) (*Store, string) {
	t.Helper()
	if _, err := exec.LookPath("kubectl"); err != nil {
		testgate.SkipOrFail(t, "kubectl not found: %v", err)
	}
	ca, err := NewCA(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.IssueServing("kube-apiserver", []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	store := NewStore()
	a := NewAPIServer(cert, testNodes, nil).WithCluster(fakeCluster{}, ca.Pool()).WithStore(store)
	if err := a.Start(func() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Stop() })
	admin, err := ca.IssueClient(AdminUser, []string{AdminGroup}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := (Kubeconfig{Cluster: "test", Server: "https://" + a.Addr(), CAPEM: ca.CertPEM, Client: admin}).Render(&buf); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return store, path
}

// kubectl runs the real kubectl with kubeconfig and stdin, failing the
// test on a non-zero exit unless fail is expected.
func kubectl(t *testing.T, kubeconfig, stdin string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "kubectl", append([]string{"--kubeconfig", kubeconfig, "--cache-dir", filepath.Join(filepath.Dir(kubeconfig), "cache")}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

const testPeerYAML = `apiVersion: crd.projectcalico.org/v1
kind: BGPPeer
metadata:
  name: tor
spec:
  node: worker1
  peerIP: 10.0.0.254
  asNumber: 65010
---
apiVersion: v1
kind: Secret
metadata:
  name: bgp-secrets
  namespace: kube-system
stringData:
  tor: s3cret
`

// TestKubectlCalicoResources drives the stand-in's Calico resources with
// the real kubectl: apply, get, patch (merge and JSON), delete, and a
// watch seeing the changes.
func TestKubectlCalicoResources(t *testing.T) {
	store, kc := kubectlServer(t)
	if out, err := kubectl(t, kc, "", "api-resources", "--api-group", CalicoGroup); err != nil || !strings.Contains(out, "bgppeers") || !strings.Contains(out, "bgpconfigurations") {
		t.Fatalf("kubectl api-resources: %v\n%s", err, out)
	}
	if out, err := kubectl(t, kc, testPeerYAML, "apply", "-f", "-"); err != nil {
		t.Fatalf("kubectl apply: %v\n%s", err, out)
	}
	o, err := store.Get(KindBGPPeer, "", "tor")
	if err != nil {
		t.Fatalf("BGPPeer tor not stored after apply: %v", err)
	}
	if spec := o["spec"].(map[string]any); spec["asNumber"] != float64(65010) || spec["node"] != "worker1" {
		t.Errorf("stored BGPPeer spec = %v", spec)
	}
	if s, err := store.Get(KindSecret, CalicoNamespace, "bgp-secrets"); err != nil || s["data"].(map[string]any)["tor"] != b64("s3cret") {
		t.Errorf("Secret after apply = %v, %v; want data.tor base64 of s3cret", s, err)
	}
	// A watch started now must see the patch and the delete.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	watch := exec.CommandContext(ctx, "kubectl", "--kubeconfig", kc, "get", "bgppeers.crd.projectcalico.org", "-w", "-o", "jsonpath={.spec.asNumber}{\"\\n\"}")
	pipe, err := watch.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := watch.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = watch.Process.Kill(); _ = watch.Wait() }()
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	waitLine := func(want string) {
		t.Helper()
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("kubectl get -w ended before printing %q", want)
				}
				if l == want {
					return
				}
			case <-ctx.Done():
				t.Fatalf("kubectl get -w never printed %q", want)
			}
		}
	}
	waitLine("65010")
	// Patching the peer's AS: merge patch (kubectl patch --type merge).
	if out, err := kubectl(t, kc, "", "patch", "bgppeers.crd.projectcalico.org", "tor", "--type", "merge", "-p", `{"spec":{"asNumber":65000}}`); err != nil {
		t.Fatalf("kubectl patch --type merge: %v\n%s", err, out)
	}
	waitLine("65000")
	if out, err := kubectl(t, kc, "", "patch", "bgppeers.crd.projectcalico.org", "tor", "--type", "json", "-p", `[{"op":"replace","path":"/spec/asNumber","value":65001}]`); err != nil {
		t.Fatalf("kubectl patch --type json: %v\n%s", err, out)
	}
	waitLine("65001")
	// Strategic merge is refused for a CRD, as on a real API server.
	if out, err := kubectl(t, kc, "", "patch", "bgppeers.crd.projectcalico.org", "tor", "-p", `{"spec":{"asNumber":1}}`); err == nil {
		t.Errorf("kubectl patch (strategic) on a CRD succeeded:\n%s", out)
	}
	// Re-applying the file sets the AS back (client-side apply's merge patch).
	if out, err := kubectl(t, kc, testPeerYAML, "apply", "-f", "-"); err != nil || !strings.Contains(out, "configured") {
		t.Fatalf("kubectl apply again: %v\n%s", err, out)
	}
	waitLine("65010")
	if out, err := kubectl(t, kc, "", "get", "bgppeers.crd.projectcalico.org"); err != nil || !strings.Contains(out, "tor") || !strings.Contains(out, "AGE") {
		t.Errorf("kubectl get bgppeers: %v\n%s", err, out)
	}
	checkTableWatch(t, kc)
	// An invalid peerIP is refused with the field named.
	bad := strings.Replace(testPeerYAML, "10.0.0.254", "10.0.0.300", 1)
	if out, err := kubectl(t, kc, bad, "apply", "-f", "-"); err == nil || !strings.Contains(out, "spec.peerIP") {
		t.Errorf("kubectl apply with peerIP 10.0.0.300: %v\n%s", err, out)
	}
	if out, err := kubectl(t, kc, "", "delete", "bgppeers.crd.projectcalico.org", "tor"); err != nil {
		t.Fatalf("kubectl delete: %v\n%s", err, out)
	}
	if _, err := store.Get(KindBGPPeer, "", "tor"); err == nil {
		t.Error("BGPPeer tor still stored after kubectl delete")
	}
	if out, err := kubectl(t, kc, "", "get", "bgppeers.crd.projectcalico.org", "tor"); err == nil || !strings.Contains(out, "NotFound") {
		t.Errorf("kubectl get of a deleted peer: %v\n%s", err, out)
	}
}

// checkTableWatch runs `kubectl get -w` with its table output (the server
// sends Table rows in watch events) and patches the peer: the watch must
// print the peer's row a second time.
func checkTableWatch(t *testing.T, kc string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out := &lockedWriter{w: &bytes.Buffer{}}
	w := exec.CommandContext(ctx, "kubectl", "--kubeconfig", kc, "get", "bgppeers.crd.projectcalico.org", "-w")
	w.Stdout = out
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = w.Process.Kill(); _ = w.Wait() }()
	rows := func() int { return strings.Count(out.String(), "\ntor ") }
	for i := 0; rows() < 1; i++ {
		if ctx.Err() != nil {
			t.Fatalf("kubectl get -w printed no row for tor:\n%s", out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if o, err := kubectl(t, kc, "", "patch", "bgppeers.crd.projectcalico.org", "tor", "--type", "merge", "-p", `{"metadata":{"labels":{"rack":"r1"}}}`); err != nil {
		t.Fatalf("kubectl patch: %v\n%s", err, o)
	}
	for rows() < 2 {
		if ctx.Err() != nil {
			t.Fatalf("kubectl get -w printed no row after the patch:\n%s", out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// lockedWriter serialises writes from a command with reads of its buffer.
type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// String is what was written so far.
func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.String()
}
