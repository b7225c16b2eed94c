package k8s

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// testNodes is a three-node Calico cluster, one node in another AS.
var testNodes = []NodeInfo{
	{Name: "master", Address: netip.MustParsePrefix("10.0.0.1/24"), ASN: DefaultASN},
	{Name: "worker1", Address: netip.MustParsePrefix("10.0.0.2/24"), ASN: DefaultASN},
	{Name: "worker2", Address: netip.MustParsePrefix("10.0.0.3/24"), ASN: 64513},
}

func TestNodeListRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	if err := EncodeNodeList(&buf, testNodes); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"kind": "NodeList"`, `"projectcalico.org/IPv4Address": "10.0.0.2/24"`, `"projectcalico.org/ASNumber": "64513"`, `"type": "InternalIP"`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("node list lacks %s:\n%s", want, buf.String())
		}
	}
	if strings.Count(buf.String(), AnnotationASNumber) != 1 {
		t.Errorf("only the node outside the default AS should carry %s:\n%s", AnnotationASNumber, buf.String())
	}
	got, err := DecodeNodeList(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, testNodes) {
		t.Errorf("round trip = %+v, want %+v", got, testNodes)
	}
}

func TestDecodeNodeListRejects(t *testing.T) {
	tests := map[string]string{
		"not json":     `{`,
		"wrong kind":   `{"kind":"PodList","items":[]}`,
		"bad address":  `{"kind":"NodeList","items":[{"metadata":{"name":"n","annotations":{"projectcalico.org/IPv4Address":"10.0.0.300/24"}}}]}`,
		"bad AS":       `{"kind":"NodeList","items":[{"metadata":{"name":"n","annotations":{"projectcalico.org/IPv4Address":"10.0.0.3/24","projectcalico.org/ASNumber":"x"}}}]}`,
		"ipv6 address": `{"kind":"NodeList","items":[{"metadata":{"name":"n","annotations":{"projectcalico.org/IPv4Address":"fd00::1/64"}}}]}`,
	}
	for name, body := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := DecodeNodeList(strings.NewReader(body)); err == nil {
				t.Error("DecodeNodeList succeeded, want an error")
			}
		})
	}
}

// startTestAPIServer serves the stand-in on a free loopback port.
func startTestAPIServer(t *testing.T) (*APIServer, *CA, string) {
	t.Helper()
	ca, err := NewCA(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.IssueServing("kube-apiserver", []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	a := NewAPIServer(cert, testNodes, nil)
	if err := a.Start(func() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Stop() })
	return a, ca, "https://" + a.Addr()
}

func plainDial(ctx context.Context, network, addr string) (net.Conn, error) {
	return (&net.Dialer{}).DialContext(ctx, network, addr)
}

func TestAPIServerEndpoints(t *testing.T) {
	_, ca, base := startTestAPIServer(t)
	c := NewClient(ca.Pool(), plainDial)
	ctx := context.Background()
	tests := []struct{ path, contains string }{
		{"/healthz", "ok"},
		{"/version", `"gitVersion":"v1.29.0-peerlab"`},
		{"/api/v1/nodes", `"name": "worker1"`},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			code, body, err := Get(ctx, c, base+tt.path)
			if err != nil || code != http.StatusOK || !strings.Contains(string(body), tt.contains) {
				t.Errorf("GET %s = %d %q, %v; want 200 containing %s", tt.path, code, body, err, tt.contains)
			}
		})
	}
	nodes, err := FetchNodes(ctx, c, base)
	if err != nil || !slices.Equal(nodes, testNodes) {
		t.Errorf("FetchNodes = %+v, %v", nodes, err)
	}
	other, _ := NewCA(time.Now())
	if _, _, err := Get(ctx, NewClient(other.Pool(), plainDial), base+"/healthz"); err == nil {
		t.Error("a client trusting another CA reached the stand-in")
	}
}

func TestAPIServerStopStart(t *testing.T) {
	a, ca, base := startTestAPIServer(t)
	addr := a.Addr()
	c := NewClient(ca.Pool(), plainDial)
	if err := a.Start(func() (net.Listener, error) { return nil, nil }); err == nil {
		t.Error("starting a running stand-in succeeded")
	}
	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}
	if a.Running() {
		t.Error("Running after Stop")
	}
	_, _, err := Get(context.Background(), c, base+"/healthz")
	if err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("GET on a stopped stand-in: %v, want connection refused", err)
	}
	if err := a.Start(func() (net.Listener, error) { return net.Listen("tcp", addr) }); err != nil {
		t.Fatal(err)
	}
	if code, _, err := Get(context.Background(), c, base+"/healthz"); err != nil || code != 200 {
		t.Errorf("GET after restart = %d, %v", code, err)
	}
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestAgentRetriesThenApplies(t *testing.T) {
	a, ca, base := startTestAPIServer(t)
	addr := a.Addr()
	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}
	c := NewClient(ca.Pool(), plainDial)
	applied := make(chan []NodeInfo, 4)
	var logs syncBuffer
	ag := &Agent{
		Server: base,
		Fetch:  func(ctx context.Context) (Snapshot, error) { return FetchSnapshot(ctx, c, base) },
		Apply: func(_ context.Context, s Snapshot) error {
			applied <- s.Nodes
			return nil
		},
		Target: "/etc/calico/confd/config/bird.cfg",
		Every:  50 * time.Millisecond,
		Log:    &logs,
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); ag.Run(ctx) }()
	defer func() { cancel(); <-done }()

	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), "connection refused") {
		if time.Now().After(deadline) {
			t.Fatalf("no connection refused in the agent's log:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if ag.Synced() {
		t.Fatal("agent synced while the API server was down")
	}
	if err := a.Start(func() (net.Listener, error) { return net.Listen("tcp", addr) }); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-applied:
		if !slices.Equal(got, testNodes) {
			t.Errorf("applied %+v, want %+v", got, testNodes)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("agent never applied; log:\n%s", logs.String())
	}
	time.Sleep(200 * time.Millisecond) // several more polls
	if n := len(applied); n != 0 {
		t.Errorf("an unchanged node list was applied %d more time(s)", n)
	}
	if !strings.Contains(logs.String(), "failed to connect to the API server at "+base) ||
		!strings.Contains(logs.String(), "Target config /etc/calico/confd/config/bird.cfg has been updated") {
		t.Errorf("agent log lacks confd's lines:\n%s", logs.String())
	}
}

// TestAPIServerStopIsQuiet stops a serving stand-in: a normal stop logs
// no warning (a tear-down printed "api server stand-in stopped" with
// "use of closed network connection").
func TestAPIServerStopIsQuiet(t *testing.T) {
	ca, err := NewCA(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.IssueServing("kube-apiserver", []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zap.WarnLevel)
	a := NewAPIServer(cert, testNodes, zap.New(core))
	for range 3 { // Start after Stop serves again
		if err := a.Start(func() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }); err != nil {
			t.Fatal(err)
		}
		if _, _, err := Get(context.Background(), NewClient(ca.Pool(), plainDial), "https://"+a.Addr()+"/healthz"); err != nil {
			t.Fatal(err)
		}
		if err := a.Stop(); err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range logs.All() {
		t.Errorf("stop logged %s %q %v", e.Level, e.Message, e.ContextMap())
	}
}
