package server

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/peerlab/peerlab/proto/peerlab/v1"
)

// TestCrashIsolation makes one lab's host process panic (the test hook
// fault) and checks that the server keeps answering, reports that lab
// FAILED with the exit reason, ends its watchers with the failure, and
// leaves the other lab running.
func TestCrashIsolation(t *testing.T) {
	ts := startServer(t)
	c := ts.client
	ctx := ctxFor(t, 90*time.Second)
	victim, other := labName(t, "v"), labName(t, "o")
	for _, n := range []string{victim, other} {
		if _, err := c.Labs.CreateLab(ctx, &pb.CreateLabRequest{
			Source: &pb.CreateLabRequest_Yaml{Yaml: twoNodes(n)}, Mode: pb.LabMode_LAB_MODE_LOOPBACK}); err != nil {
			t.Fatalf("CreateLab %s: %v", n, err)
		}
	}
	watch, err := c.Labs.WatchLab(ctx, &pb.WatchLabRequest{Name: victim})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Faults.InjectFault(ctx, &pb.InjectFaultRequest{Lab: victim,
		Fault: &pb.Fault{Name: TestPanicFault, Node: "node1"}}); err != nil {
		t.Fatalf("inject the panic hook: %v", err)
	}

	var failed *pb.LabStateChange
	for failed == nil {
		ev, err := watch.Recv()
		if err != nil {
			t.Fatalf("WatchLab ended without a FAILED state change: %v", err)
		}
		failed = ev.GetState()
	}
	if failed.GetState() != pb.LabState_LAB_STATE_FAILED || !strings.Contains(failed.GetFailure(), "exit status 2") {
		t.Errorf("watch: state change %v, want FAILED with the exit status", failed)
	}

	got, err := c.Labs.GetLab(ctx, &pb.GetLabRequest{Name: victim})
	if err != nil {
		t.Fatalf("GetLab %s after the crash: %v", victim, err)
	}
	if got.GetLab().GetState() != pb.LabState_LAB_STATE_FAILED || !strings.Contains(got.GetLab().GetFailure(), "panic") {
		t.Errorf("GetLab %s: state %v failure %q, want FAILED naming the panic", victim, got.GetLab().GetState(), got.GetLab().GetFailure())
	}
	_, err = c.Speakers.AddPaths(ctx, &pb.AddPathsRequest{Lab: victim, Node: "node1",
		Routes: []*pb.Route{{Prefix: "10.9.0.0/24"}}})
	if status.Code(err) != codes.FailedPrecondition {
		t.Errorf("AddPaths on a failed lab: %v, want FailedPrecondition", err)
	}

	alive, err := c.Labs.GetLab(ctx, &pb.GetLabRequest{Name: other})
	if err != nil || alive.GetLab().GetState() != pb.LabState_LAB_STATE_RUNNING {
		t.Fatalf("the other lab: %v %v, want RUNNING", alive.GetLab().GetState(), err)
	}
	if err := c.WaitEstablished(ctx, other, "node1", "node2"); err != nil {
		t.Errorf("the other lab: %v", err)
	}
	for _, n := range []string{victim, other} {
		if _, err := c.Labs.DeleteLab(ctx, &pb.DeleteLabRequest{Name: n}); err != nil {
			t.Errorf("DeleteLab %s: %v", n, err)
		}
	}
	list, err := c.Labs.ListLabs(ctx, &pb.ListLabsRequest{})
	if err != nil || len(list.GetLabs()) != 0 {
		t.Errorf("ListLabs after deleting both: %v %v", list.GetLabs(), err)
	}
}
