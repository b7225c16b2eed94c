package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/peerlab/peerlab/client"
	pb "github.com/peerlab/peerlab/proto/peerlab/v1"
)

// nsTopology is two gobgp nodes with short timers, so a dropped port 179
// takes the session down within seconds.
func nsTopology(name string) string {
	return fmt.Sprintf(`name: %s
defaults: {asn: 64512, timers: {hold: 3s, keepalive: 1s, connect-retry: 1s}}
nodes:
  node1: {address: 10.0.0.1, prefixes: [10.244.1.0/24]}
  node2: {address: 10.0.0.2, prefixes: [10.244.2.0/24]}
peerings:
  - between: [node1, node2]
`, name)
}

// waitSession reads watch events until one of local's session with remote
// matches want.
func waitSession(t *testing.T, w pb.LabService_WatchLabClient, local, remote string, want func(*pb.SessionEvent) bool) *pb.SessionEvent {
	t.Helper()
	for {
		ev, err := w.Recv()
		if err != nil {
			t.Fatalf("watch %s-%s: %v", local, remote, err)
		}
		if s := ev.GetSession(); s != nil && s.GetLocal() == local && s.GetRemote() == remote && want(s) {
			return s
		}
	}
}

// TestNamespaceFaultAndCapture creates a namespace-mode lab that records
// its links, injects tcp179-drop and sees the session go down through
// WatchLab, heals it and sees it come back, streams decoded messages of a
// live API capture, and downloads the lab's capture.
func TestNamespaceFaultAndCapture(t *testing.T) {
	requireRoot(t)
	ts := startServer(t)
	c := ts.client
	ctx := ctxFor(t, 2*time.Minute)
	name := labName(t, "a")
	created, err := c.Labs.CreateLab(ctx, &pb.CreateLabRequest{
		Source: &pb.CreateLabRequest_Yaml{Yaml: nsTopology(name)}, Mode: pb.LabMode_LAB_MODE_NAMESPACE, Capture: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = c.Labs.DeleteLab(ctxFor(t, time.Minute), &pb.DeleteLabRequest{Name: name}) })
	if m := created.GetLab().GetMode(); m != pb.LabMode_LAB_MODE_NAMESPACE {
		t.Fatalf("mode %v", m)
	}
	if err := c.WaitEstablished(ctx, name, "node1", "node2"); err != nil {
		t.Fatal(err)
	}

	watch, err := c.Labs.WatchLab(ctx, &pb.WatchLabRequest{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	fault := &pb.Fault{Name: "tcp179-drop", Node: "node1", Peer: "node2"}
	if _, err := c.Faults.InjectFault(ctx, &pb.InjectFaultRequest{Lab: name, Fault: fault}); err != nil {
		t.Fatalf("InjectFault: %v", err)
	}
	down := waitSession(t, watch, "node1", "node2", func(s *pb.SessionEvent) bool { return s.GetFrom() == "Established" && s.GetReason() != "" })
	t.Logf("after tcp179-drop: %s -> %s (%s)", down.GetFrom(), down.GetTo(), down.GetReason())
	if _, err := c.Faults.HealFault(ctx, &pb.HealFaultRequest{Lab: name, Fault: fault}); err != nil {
		t.Fatalf("HealFault: %v", err)
	}
	waitSession(t, watch, "node1", "node2", func(s *pb.SessionEvent) bool { return s.GetTo() == "Established" })
	faults, err := c.Faults.ListFaults(ctx, &pb.ListFaultsRequest{Lab: name})
	if err != nil {
		t.Fatal(err)
	}
	if fs := faults.GetFaults(); len(fs) != 2 || fs[0].GetAction() != "inject" || fs[1].GetAction() != "heal" {
		t.Errorf("fault log %v, want inject then heal", fs)
	}

	// A live capture of node1, decoded while it records: KEEPALIVEs every
	// second must stream before it stops.
	started, err := c.Captures.StartCapture(ctx, &pb.StartCaptureRequest{Lab: name, Node: "node1"})
	if err != nil {
		t.Fatalf("StartCapture: %v", err)
	}
	decoded, err := c.Captures.WatchDecoded(ctx, &pb.WatchDecodedRequest{Lab: name, CaptureId: started.GetCaptureId()})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := decoded.Recv()
	if err != nil {
		t.Fatalf("WatchDecoded on a live capture: %v", err)
	}
	t.Logf("first decoded event while live: %s %s", ev.GetEvent().GetKind(), ev.GetEvent().GetSummary())
	stopped, err := c.Captures.StopCapture(ctx, &pb.StopCaptureRequest{Lab: name, CaptureId: started.GetCaptureId()})
	if err != nil || stopped.GetPackets() == 0 {
		t.Fatalf("StopCapture: %v %v", stopped, err)
	}
	for {
		if _, err := decoded.Recv(); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Errorf("WatchDecoded after stop: %v", err)
			}
			break
		}
	}

	// The lab's own capture of node1, downloaded.
	data := download(t, c, ctx, name, "node1.pcapng")
	if len(data) < 100 || !bytes.HasPrefix(data, []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
		t.Errorf("downloaded node1.pcapng: %d bytes, starting % x; want a pcapng file", len(data), data[:min(8, len(data))])
	}
	if _, err := c.Labs.DeleteLab(ctx, &pb.DeleteLabRequest{Name: name}); err != nil {
		t.Fatalf("DeleteLab: %v", err)
	}
}

// download fetches a capture whole.
func download(t *testing.T, c *client.Client, ctx context.Context, lab, id string) []byte {
	t.Helper()
	s, err := c.Captures.DownloadCapture(ctx, &pb.DownloadCaptureRequest{Lab: lab, CaptureId: id})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	for {
		chunk, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return buf.Bytes()
		}
		if err != nil {
			t.Fatalf("DownloadCapture %s: %v", id, err)
		}
		buf.Write(chunk.GetChunk())
	}
}
