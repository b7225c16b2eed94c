package k8s

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// fakeCluster is a fixed cluster: master ready, worker1 not.
type fakeCluster struct{}

var fakeStart = time.Now().Add(-90 * time.Second)

func (fakeCluster) Nodes(context.Context) []NodeState {
	return []NodeState{
		{Name: "master", Address: netip.MustParseAddr("10.0.0.1"), Roles: []string{"control-plane"}, Ready: true, Created: fakeStart},
		{Name: "worker1", Address: netip.MustParseAddr("10.0.0.2"), Ready: true, Created: fakeStart},
	}
}

func (fakeCluster) Pods(context.Context) []PodState {
	msg := "calico/node is not ready: BIRD is not ready: BGP not established with 10.0.0.2"
	return []PodState{
		{Name: DaemonSetPodName("calico-node", "master"), App: "calico-node", Owner: "calico-node", Node: "master",
			IP: netip.MustParseAddr("10.0.0.1"), Container: "calico-node", Running: true, Ready: false, Started: fakeStart,
			Events: []Event{{Type: "Warning", Reason: "Unhealthy", Message: "Readiness probe failed: " + msg, First: fakeStart, Last: time.Now(), Count: 9, Source: "kubelet"}}},
		{Name: "nginx-proxy-worker1", App: "kube-nginx", Node: "worker1", IP: netip.MustParseAddr("10.0.0.2"),
			Container: "nginx-proxy", Running: true, Ready: true, Started: fakeStart, Mirror: true},
	}
}

func (fakeCluster) Logs(_ context.Context, pod, _ string) ([]byte, error) {
	return []byte("line 1\nline 2\nline 3\n"), nil
}

func (fakeCluster) Exec(_ context.Context, pod, _ string, argv []string, stdout, stderr io.Writer) (int, error) {
	fmt.Fprintf(stdout, "ran %s in %s\n", strings.Join(argv, " "), pod)
	if argv[0] == "false" {
		return 1, nil
	}
	return 0, nil
}

// startClusterServer serves fakeCluster and returns its address and an
// admin TLS configuration.
func startClusterServer(t *testing.T) (string, *tls.Config, *CA) {
	t.Helper()
	ca, err := NewCA(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.IssueServing("kube-apiserver", []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	a := NewAPIServer(cert, testNodes, nil).WithCluster(fakeCluster{}, ca.Pool())
	if err := a.Start(func() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Stop() })
	admin, err := ca.IssueClient(AdminUser, []string{AdminGroup}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(admin.CertPEM, admin.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return a.Addr(), &tls.Config{RootCAs: ca.Pool(), Certificates: []tls.Certificate{pair}}, ca
}

// get fetches path with accept and decodes the JSON answer.
func get(t *testing.T, c *http.Client, url, accept string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&v)
	return resp.StatusCode, v
}

func TestClusterRoutes(t *testing.T) {
	addr, conf, ca := startClusterServer(t)
	base := "https://" + addr
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: conf}}
	anon := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}}}
	const table = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
	master := DaemonSetPodName("calico-node", "master")

	if code, _ := get(t, anon, base+"/api/v1/nodes", ""); code != http.StatusUnauthorized {
		t.Errorf("GET /api/v1/nodes without a client certificate: %d, want 401", code)
	}
	if code, _ := get(t, anon, base+"/version", ""); code != http.StatusOK {
		t.Errorf("GET /version without a client certificate: %d, want 200", code)
	}
	if _, v := get(t, c, base+"/api", ""); v["kind"] != "APIVersions" {
		t.Errorf("/api = %v", v)
	}
	if _, v := get(t, c, base+"/api/v1", ""); !strings.Contains(fmt.Sprint(v["resources"]), "pods/exec") {
		t.Errorf("/api/v1 lacks pods/exec: %v", v)
	}
	_, v := get(t, c, base+"/api/v1/namespaces/kube-system/pods", table)
	rows, _ := v["rows"].([]any)
	if v["kind"] != "Table" || len(rows) != 2 {
		t.Fatalf("pods table = %v", v)
	}
	cells := fmt.Sprint(rows[0].(map[string]any)["cells"])
	if !strings.Contains(cells, master+" 0/1 Running 0") || !strings.Contains(cells, "10.0.0.1 master") {
		t.Errorf("master's calico-node row = %s", cells)
	}
	_, v = get(t, c, base+"/api/v1/namespaces/kube-system/pods?labelSelector=k8s-app%3Dkube-nginx", "")
	if items, _ := v["items"].([]any); v["kind"] != "PodList" || len(items) != 1 {
		t.Errorf("pods with label k8s-app=kube-nginx = %v", v)
	}
	if code, _ := get(t, c, base+"/api/v1/namespaces/default/pods/"+master, ""); code != http.StatusNotFound {
		t.Errorf("calico-node in namespace default: %d, want 404", code)
	}
	_, v = get(t, c, base+"/api/v1/namespaces/kube-system/events?fieldSelector=involvedObject.name%3D"+master, "")
	if items, _ := v["items"].([]any); len(items) != 1 || !strings.Contains(fmt.Sprint(items[0]), "Readiness probe failed: calico/node is not ready") {
		t.Errorf("events of %s = %v", master, v)
	}
	_, v = get(t, c, base+"/api/v1/namespaces/kube-system/events?fieldSelector=involvedObject.name%3Dnginx-proxy-worker1", "")
	if items, _ := v["items"].([]any); len(items) != 0 {
		t.Errorf("events of nginx-proxy-worker1 = %v, want none", v)
	}
	_, v = get(t, c, base+"/api/v1/nodes", "")
	if !strings.Contains(fmt.Sprint(v), AnnotationIPv4Address) || !strings.Contains(fmt.Sprint(v), "node-role.kubernetes.io/control-plane") {
		t.Errorf("nodes lack Calico's annotation or the master's role: %v", v)
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/namespaces/kube-system/pods/"+master+"/log?tailLines=2", nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "line 2\nline 3\n" {
		t.Errorf("log with tailLines=2 = %q", body)
	}
}

// TestExecWebSocket runs exec over the WebSocket protocol as kubectl does:
// output on channel 1, the outcome as a Status on channel 3, then a close.
func TestExecWebSocket(t *testing.T) {
	addr, conf, _ := startClusterServer(t)
	master := DaemonSetPodName("calico-node", "master")
	for _, tc := range []struct {
		cmd, status, out string
	}{
		{"birdcl", `"status":"Success"`, "ran birdcl show protocols in " + master},
		{"false", `"reason":"NonZeroExitCode"`, "ran false show protocols in " + master},
	} {
		conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: conf.RootCAs, Certificates: conf.Certificates, NextProtos: []string{"http/1.1"}})
		if err != nil {
			t.Fatal(err)
		}
		key := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef"))
		fmt.Fprintf(conn, "GET /api/v1/namespaces/kube-system/pods/%s/exec?command=%s&command=show&command=protocols&container=calico-node&stdout=true&stderr=true HTTP/1.1\r\n"+
			"Host: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"+
			"Sec-WebSocket-Protocol: v5.channel.k8s.io, v4.channel.k8s.io\r\n\r\n", master, tc.cmd, addr, key)
		br := bufio.NewReader(conn)
		resp, err := http.ReadResponse(br, nil)
		if err != nil || resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-WebSocket-Protocol") != "v5.channel.k8s.io" {
			t.Fatalf("handshake: %v %v", resp, err)
		}
		ws := &wsConn{conn: conn, r: br}
		got := map[byte]string{}
		for {
			op, payload, err := ws.readFrame()
			if err != nil || op == opClose {
				break
			}
			if op == opBinary && len(payload) > 0 {
				got[payload[0]] += string(payload[1:])
			}
		}
		conn.Close()
		if strings.TrimSpace(got[chanStdout]) != tc.out || !strings.Contains(got[chanError], tc.status) {
			t.Errorf("%s: stdout %q, status %q; want %q and %s", tc.cmd, got[chanStdout], got[chanError], tc.out, tc.status)
		}
	}
}

func TestHumanAge(t *testing.T) {
	for d, want := range map[time.Duration]string{
		5 * time.Second: "5s", 119 * time.Second: "119s", 150 * time.Second: "2m30s", 5 * time.Minute: "5m",
		30 * time.Minute: "30m", 4*time.Hour + 10*time.Minute: "4h10m", 20 * time.Hour: "20h", 72 * time.Hour: "3d",
	} {
		if got := humanAge(d); got != want {
			t.Errorf("humanAge(%v) = %q, want %q", d, got, want)
		}
	}
}
