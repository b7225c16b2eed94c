package server

import (
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/peerlab/peerlab/diagnose"
	"github.com/peerlab/peerlab/lab"
	pb "github.com/peerlab/peerlab/proto/peerlab/v1"
)

// birdPair is two BIRD nodes with short timers in namespace mode.
func birdPair(name string) string {
	return fmt.Sprintf(`name: %s
defaults: {asn: 64512, timers: {hold: 3s, keepalive: 1s, connect-retry: 1s}}
nodes:
  n: {kind: bird, address: 10.0.0.1, prefixes: [10.244.1.0/24]}
  p: {kind: bird, address: 10.0.0.2, prefixes: [10.244.2.0/24]}
peerings:
  - between: [n, p]
`, name)
}

// TestServeLabDrivenByCLIAndDiagnosed creates a lab through `peerlab
// serve` and drives it with the plain CLI by name, through the lab's state
// file and control socket: status, fault, down. In between DiagnoseNode
// (through serve) names the fault the CLI injected. Once `peerlab down`
// took the lab down behind serve's back, serve no longer lists it.
func TestServeLabDrivenByCLIAndDiagnosed(t *testing.T) {
	requireRoot(t)
	bin, _ := tools(t)
	ts := startServer(t)
	c := ts.client
	ctx := ctxFor(t, 2*time.Minute)
	name := labName(t, "a")
	if _, err := c.Labs.CreateLab(ctx, &pb.CreateLabRequest{
		Source: &pb.CreateLabRequest_Yaml{Yaml: birdPair(name)}, Mode: pb.LabMode_LAB_MODE_NAMESPACE}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = c.Labs.DeleteLab(ctxFor(t, time.Minute), &pb.DeleteLabRequest{Name: name}) })
	st, err := lab.ReadState(ts.dir, name)
	if err != nil {
		t.Fatalf("a lab created through serve published no state file: %v", err)
	}
	if want := filepath.Join(ts.dir, "serve", name+".sock"); st.Socket != want || st.Mode != lab.ModeNamespace || len(st.Nodes) != 2 {
		t.Errorf("state file %+v, want socket %s, namespace mode, 2 nodes", st, want)
	}
	if err := c.WaitEstablished(ctx, name, "n", "p"); err != nil {
		t.Fatal(err)
	}
	cli := func(args ...string) (string, error) {
		out, err := exec.CommandContext(ctx, bin, append(args, "--state-dir", ts.dir)...).CombinedOutput()
		return string(out), err
	}
	out, err := cli("status", name)
	if err != nil || !strings.Contains(out, "lab "+name+"  (namespace mode") || !strings.Contains(out, "n (10.0.0.1)  p (10.0.0.2)  Established") {
		t.Fatalf("peerlab status %s: %v\n%s", name, err, out)
	}
	if out, err := cli("fault", name, "inject", "tcp179-reject", "--node", "p"); err != nil || !strings.Contains(out, "done") {
		t.Fatalf("peerlab fault %s inject: %v\n%s", name, err, out)
	}
	// BIRD on n retries every second and records the reset: the top cause
	// settles within a few seconds.
	var top string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(time.Second) {
		rep, err := c.Diagnosis.DiagnoseNode(ctx, &pb.DiagnoseNodeRequest{Lab: name, Node: "n"})
		if err != nil {
			t.Fatalf("DiagnoseNode: %v", err)
		}
		if len(rep.GetFindings()) > 0 {
			top = rep.GetFindings()[0].GetCause()
			if top == string(diagnose.CauseTCP179Rejected) {
				if !strings.Contains(rep.GetRendered(), top) {
					t.Errorf("rendered report does not name %s:\n%s", top, rep.GetRendered())
				}
				break
			}
		}
	}
	if top != string(diagnose.CauseTCP179Rejected) {
		t.Errorf("DiagnoseNode top cause %q, want %s", top, diagnose.CauseTCP179Rejected)
	}

	if out, err := cli("down", name); err != nil || !strings.Contains(out, "lab "+name+" down") {
		t.Fatalf("peerlab down %s: %v\n%s", name, err, out)
	}
	if _, err := lab.ReadState(ts.dir, name); !errors.Is(err, lab.ErrLabNotFound) {
		t.Errorf("state file after down: %v, want ErrLabNotFound", err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		list, err := c.Labs.ListLabs(ctx, &pb.ListLabsRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if len(list.GetLabs()) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve still lists %v after peerlab down", list.GetLabs())
		}
	}
}

// TestDiagnoseNodeRefusals checks DiagnoseNode's status codes for requests
// it cannot serve.
func TestDiagnoseNodeRefusals(t *testing.T) {
	d := &Diagnosis{StateDir: t.TempDir()}
	for _, tc := range []struct {
		name      string
		lab, node string
		want      string
	}{
		{"no lab", "", "n", "InvalidArgument"},
		{"no node", "x", "", "InvalidArgument"},
		{"unknown lab", "nosuchlab", "n", "NotFound"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := d.DiagnoseNode(t.Context(), &pb.DiagnoseNodeRequest{Lab: tc.lab, Node: tc.node})
			if err == nil || !strings.Contains(err.Error(), "code = "+tc.want) {
				t.Errorf("DiagnoseNode(%q, %q) = %v, want %s", tc.lab, tc.node, err, tc.want)
			}
		})
	}
}
