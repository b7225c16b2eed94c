package server

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/peerlab/peerlab/client"
	pb "github.com/peerlab/peerlab/proto/peerlab/v1"
)

// TestServeSIGTERM runs `peerlab serve`, creates a lab through it, sends
// SIGTERM and checks that serve exits 0 after tearing the lab's host down.
func TestServeSIGTERM(t *testing.T) {
	bin, _ := tools(t)
	dir := shortTempDir(t)
	cmd := exec.Command(bin, "serve", "--state-dir", dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "serving on unix") {
		t.Fatalf("serve said %q, %v", line, err)
	}
	c, err := client.NewUnix(filepath.Join(dir, "serve.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := ctxFor(t, time.Minute)
	name := labName(t, "a")
	created, err := c.Labs.CreateLab(ctx, &pb.CreateLabRequest{
		Source: &pb.CreateLabRequest_Yaml{Yaml: twoNodes(name)}, Mode: pb.LabMode_LAB_MODE_LOOPBACK})
	if err != nil {
		t.Fatal(err)
	}
	hostPID := int(created.GetLab().GetHostPid())
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve after SIGTERM: %v, want exit status 0", err)
		}
	case <-time.After(45 * time.Second):
		t.Fatal("serve did not exit within 45 s of SIGTERM")
	}
	if syscall.Kill(hostPID, 0) == nil {
		t.Errorf("lab host %d still runs after serve exited", hostPID)
	}
}
