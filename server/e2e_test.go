package server

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// grpcurlRun runs grpcurl against the server's socket through reflection.
func grpcurlRun(t *testing.T, bin, socket, method string, data string) string {
	t.Helper()
	args := []string{"-plaintext", "-unix", "-max-msg-sz", "67108864"}
	if data != "" {
		args = append(args, "-d", "@")
	}
	args = append(args, socket, method)
	cmd := exec.Command(bin, args...)
	cmd.Stdin = strings.NewReader(data)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("grpcurl %s: %v\n%s", method, err, out)
	}
	return string(out)
}

// jsonArg marshals v for grpcurl -d.
func jsonArg(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestGRPCurlEndToEnd drives a loopback lab through `grpcurl` only:
// reflection, CreateLab, WatchLab until Established, 10,000 paths by client
// stream seen at the peer, an artifacts diagnosis, DeleteLab.
func TestGRPCurlEndToEnd(t *testing.T) {
	_, gc := tools(t)
	ts := startServer(t)
	name := labName(t, "a")

	list := grpcurlRun(t, gc, ts.socket, "list", "")
	for _, svc := range []string{"peerlab.v1.LabService", "peerlab.v1.SpeakerService", "peerlab.v1.FaultService",
		"peerlab.v1.CaptureService", "peerlab.v1.DiagnosisService", "grpc.health.v1.Health"} {
		if !strings.Contains(list, svc) {
			t.Errorf("reflection does not list %s:\n%s", svc, list)
		}
	}
	health := grpcurlRun(t, gc, ts.socket, "grpc.health.v1.Health/Check", "{}")
	if !strings.Contains(health, "SERVING") {
		t.Errorf("health: %s", health)
	}

	out := grpcurlRun(t, gc, ts.socket, "peerlab.v1.LabService/CreateLab",
		jsonArg(t, map[string]any{"yaml": twoNodes(name), "mode": "LAB_MODE_LOOPBACK"}))
	if !strings.Contains(out, "LAB_STATE_RUNNING") {
		t.Fatalf("CreateLab: %s", out)
	}

	// WatchLab streams until both ends are Established.
	watch := exec.Command(gc, "-plaintext", "-unix", "-d", jsonArg(t, map[string]any{"name": name, "replay": true}),
		ts.socket, "peerlab.v1.LabService/WatchLab")
	stdout, err := watch.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := watch.Start(); err != nil {
		t.Fatal(err)
	}
	established := make(chan struct{})
	go func() {
		dec := json.NewDecoder(bufio.NewReader(stdout))
		seen := map[string]bool{}
		for {
			var ev struct {
				Session *struct{ Local, Remote, To string } `json:"session"`
			}
			if err := dec.Decode(&ev); err != nil {
				return
			}
			if ev.Session != nil && ev.Session.To == "Established" {
				seen[ev.Session.Local] = true
				if seen["node1"] && seen["node2"] {
					close(established)
					return
				}
			}
		}
	}()
	select {
	case <-established:
	case <-time.After(30 * time.Second):
		t.Fatal("WatchLab did not show node1-node2 Established within 30 s")
	}
	_ = watch.Process.Kill()
	_ = watch.Wait()

	// 10,000 paths from node1 over one client stream, in 10 messages.
	var stream bytes.Buffer
	for m := 0; m < 10; m++ {
		var routes []map[string]string
		for i := 0; i < 1000; i++ {
			n := m*1000 + i
			routes = append(routes, map[string]string{"prefix": fmt.Sprintf("10.%d.%d.0/24", 100+n/256, n%256)})
		}
		stream.WriteString(jsonArg(t, map[string]any{"lab": name, "node": "node1", "routes": routes}))
		stream.WriteString("\n")
	}
	out = grpcurlRun(t, gc, ts.socket, "peerlab.v1.SpeakerService/AddPathsStream", stream.String())
	if !strings.Contains(out, `"added": "10000"`) {
		t.Fatalf("AddPathsStream: %s", out)
	}
	deadline := time.Now().Add(30 * time.Second)
	var got int
	for {
		got, err = ts.client.CountRIB(ctxFor(t, 10*time.Second), name, "node2")
		if err != nil {
			t.Fatal(err)
		}
		if got >= 10002 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if got != 10002 { // 10,000 added + both nodes' own prefixes
		t.Fatalf("node2 has %d best paths, want 10002", got)
	}
	rib := grpcurlRun(t, gc, ts.socket, "peerlab.v1.SpeakerService/ListRib",
		jsonArg(t, map[string]any{"lab": name, "node": "node2"}))
	if c := strings.Count(rib, `"prefix"`); c != 10002 {
		t.Errorf("grpcurl ListRib printed %d paths, want 10002", c)
	}

	// An artifacts diagnosis.
	dir := filepath.Join("..", "diagnose", "testdata", "artifacts", "as-mismatch-bird2")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var files []map[string]string
	for _, e := range entries {
		if e.IsDir() || e.Name() == "expected.json" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, map[string]string{"name": e.Name(), "content": base64.StdEncoding.EncodeToString(b)})
	}
	if len(files) == 0 {
		t.Fatalf("no artifact files in %s", dir)
	}
	out = grpcurlRun(t, gc, ts.socket, "peerlab.v1.DiagnosisService/DiagnoseArtifacts",
		jsonArg(t, map[string]any{"files": files, "format": "json"}))
	var diag struct {
		Findings []struct{ Cause string } `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &diag); err != nil {
		t.Fatalf("DiagnoseArtifacts output: %v\n%s", err, out)
	}
	if len(diag.Findings) == 0 || diag.Findings[0].Cause != "as-mismatch" {
		t.Errorf("DiagnoseArtifacts: want first cause as-mismatch, got %s", out)
	}

	grpcurlRun(t, gc, ts.socket, "peerlab.v1.LabService/DeleteLab", jsonArg(t, map[string]any{"name": name}))
	out = grpcurlRun(t, gc, ts.socket, "peerlab.v1.LabService/ListLabs", "{}")
	if strings.Contains(out, name) {
		t.Errorf("lab still listed after DeleteLab: %s", out)
	}
}
