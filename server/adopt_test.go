package server

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/peerlab/peerlab/client"
	"github.com/peerlab/peerlab/lab"
	pb "github.com/peerlab/peerlab/proto/peerlab/v1"
)

// TestRestartedServeAdoptsLabs starts a lab through a real `peerlab serve`,
// SIGKILLs that serve (its lab host keeps running), starts a new serve on
// the same state folder and checks that it lists the lab as RUNNING with
// the same host, proxies calls to it, and deletes it (the host exits).
func TestRestartedServeAdoptsLabs(t *testing.T) {
	bin, _ := tools(t)
	dir := shortTempDir(t)
	socket := filepath.Join(dir, "serve.sock")
	first := exec.Command(bin, "serve", "--state-dir", dir, "--log-level", "warn")
	first.Stdout, first.Stderr = os.Stderr, os.Stderr
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	firstDone := make(chan struct{})
	go func() { first.Wait(); close(firstDone) }()
	t.Cleanup(func() { first.Process.Kill(); <-firstDone })
	ctx := ctxFor(t, 2*time.Minute)
	for {
		if _, err := os.Stat(socket); err == nil {
			break
		}
		select {
		case <-firstDone:
			t.Fatal("the first serve exited before listening")
		case <-ctx.Done():
			t.Fatal("the first serve never listened")
		case <-time.After(50 * time.Millisecond):
		}
	}
	c1, err := client.NewUnix(socket)
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	name := labName(t, "a")
	created, err := c1.Labs.CreateLab(ctx, &pb.CreateLabRequest{
		Source: &pb.CreateLabRequest_Yaml{Yaml: twoNodes(name)}, Mode: pb.LabMode_LAB_MODE_LOOPBACK})
	if err != nil {
		t.Fatalf("CreateLab through the first serve: %v", err)
	}
	hostPID := int(created.GetLab().GetHostPid())
	t.Cleanup(func() {
		if syscall.Kill(hostPID, 0) == nil {
			syscall.Kill(hostPID, syscall.SIGTERM)
		}
	})
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-firstDone
	if err := syscall.Kill(hostPID, 0); err != nil {
		t.Fatalf("the lab host died with its serve: %v", err)
	}

	ts := startServerIn(t, dir)
	list, err := ts.client.Labs.ListLabs(ctx, &pb.ListLabsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.GetLabs()) != 1 || list.GetLabs()[0].GetName() != name ||
		list.GetLabs()[0].GetState() != pb.LabState_LAB_STATE_RUNNING || int(list.GetLabs()[0].GetHostPid()) != hostPID {
		t.Fatalf("ListLabs after the restart: %v; want %s RUNNING on host pid %d", list.GetLabs(), name, hostPID)
	}
	if err := ts.client.WaitEstablished(ctx, name, "node1", "node2"); err != nil {
		t.Errorf("WatchLab through the new serve: %v", err)
	}
	// The host writes its own log: it goes on after its serve was killed.
	hostLog := lab.HostLog(dir, name)
	before, err := os.Stat(hostLog)
	if err != nil {
		t.Fatalf("the adopted host's log: %v", err)
	}
	if _, err := ts.client.Faults.InjectFault(ctx, &pb.InjectFaultRequest{Lab: name,
		Fault: &pb.Fault{Name: "tcp179-drop", Node: "node1"}}); err == nil {
		t.Fatal("tcp179-drop in loopback mode was not refused; the test needs a logged refusal")
	}
	if after, err := os.Stat(hostLog); err != nil || after.Size() <= before.Size() {
		t.Errorf("the adopted host's log did not grow after a logged call (%d bytes before, %v after, %v)",
			before.Size(), after, err)
	}
	if _, err := ts.client.Labs.DeleteLab(ctx, &pb.DeleteLabRequest{Name: name}); err != nil {
		t.Fatalf("DeleteLab through the new serve: %v", err)
	}
	gone := false
	for !gone && ctx.Err() == nil {
		// The host is not our child: once it exits it is gone from /proc.
		if _, err := os.Stat(filepath.Join("/proc", strconv.Itoa(hostPID))); err != nil {
			gone = true
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !gone {
		t.Errorf("lab host %d still runs after DeleteLab", hostPID)
	}
	list, err = ts.client.Labs.ListLabs(context.Background(), &pb.ListLabsRequest{})
	if err != nil || len(list.GetLabs()) != 0 {
		t.Errorf("ListLabs after DeleteLab: %v %v; want none", list.GetLabs(), err)
	}
}
