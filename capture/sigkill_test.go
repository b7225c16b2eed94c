package capture

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	api "github.com/osrg/gobgp/v4/api"
	"github.com/osrg/gobgp/v4/pkg/server"
)

// Environment of the re-executed child in TestCaptureSurvivesSIGKILL.
const (
	envChildPath = "PEERLAB_CAPTURE_CHILD_PATH"
	envChildPort = "PEERLAB_CAPTURE_CHILD_PORT"
)

// TestMain lets the test binary act as a capturing child process, as
// the decoding child of BenchmarkDecodeVsTshark, or as a capture generator
// (synthetic, gen_test.go, or the lab's, labgen_test.go).
func TestMain(m *testing.M) {
	if path := os.Getenv(envChildPath); path != "" {
		os.Exit(runCaptureChild(path, os.Getenv(envChildPort)))
	}
	if path := os.Getenv(envDecodeChild); path != "" {
		os.Exit(runDecodeChild(path, os.Getenv(envDecodeChildPort)))
	}
	if n := os.Getenv(envLabGen); n != "" {
		os.Exit(runLabGenerator(n))
	}
	if path := os.Getenv(envGenPath); path != "" {
		os.Exit(runGenerator(path))
	}
	os.Exit(m.Run())
}

// runCaptureChild captures on lo until killed.
func runCaptureChild(path, port string) int {
	p, err := strconv.Atoi(port)
	if err != nil {
		return 2
	}
	c, err := Start(context.Background(), Options{Interface: "lo", Ports: []int{p}, Path: path})
	if err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		return 1
	}
	os.Stdout.WriteString("capturing\n")
	_ = c // never stopped: the parent kills the process with SIGKILL
	select {}
}

// TestCaptureSurvivesSIGKILL kills a capturing child with SIGKILL after
// GoBGP speakers exchanged OPENs and decodes what had been flushed.
func TestCaptureSurvivesSIGKILL(t *testing.T) {
	requireRoot(t)
	a, b, port := loopbackPair(t)
	path := filepath.Join(t.TempDir(), "killed.pcapng")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envChildPath+"="+path, envChildPort+"="+strconv.Itoa(port))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	ready := make([]byte, len("capturing\n"))
	if _, err := stdout.Read(ready); err != nil || string(ready) != "capturing\n" {
		t.Fatalf("child did not start capturing: %v %q %s", err, ready, stderr.String())
	}
	startSpeaker(t, 65001, a, port, b, 65002, false)
	sb := startSpeaker(t, 65002, b, port, a, 65001, true)
	waitEstablished(t, sb)
	time.Sleep(300 * time.Millisecond) // > flush interval
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	tl := decodeFile(t, path, DecodeOptions{Ports: []int{port}})
	if len(tl.Sessions) == 0 {
		t.Fatal("no session in the killed capture")
	}
	if got := tl.Sessions[0].Counts.Open; got < 2 {
		t.Fatalf("got %d OPENs in the killed capture, want 2", got)
	}
}

// waitEstablished polls s until a peer is established.
func waitEstablished(t *testing.T, s *server.BgpServer) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		up := false
		_ = s.ListPeer(context.Background(), &api.ListPeerRequest{}, func(p *api.Peer) {
			up = up || p.GetState().GetSessionState() == api.PeerState_SESSION_STATE_ESTABLISHED
		})
		if up {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("session not established within 20s")
}
