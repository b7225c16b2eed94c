package server

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/peerlab/peerlab/client"
	pb "github.com/peerlab/peerlab/proto/peerlab/v1"
)

// TestLoad100Clients runs 100 concurrent clients, each on its own
// connection, calling ListLabs and GetLab while holding a WatchLab stream
// for 10 s: no call may fail, and once they disconnect the server's
// goroutine count returns to its baseline (the server runs in this
// process, so runtime.NumGoroutine is its count).
func TestLoad100Clients(t *testing.T) {
	if testing.Short() {
		t.Skip("10 s load test; -short skips it (CI runs without -short)")
	}
	const clients, hold = 100, 10 * time.Second
	ts := startServer(t)
	ctx := ctxFor(t, 2*time.Minute)
	name := labName(t, "a")
	if _, err := ts.client.Labs.CreateLab(ctx, &pb.CreateLabRequest{
		Source: &pb.CreateLabRequest_Yaml{Yaml: twoNodes(name)}, Mode: pb.LabMode_LAB_MODE_LOOPBACK}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = ts.client.Labs.DeleteLab(ctxFor(t, time.Minute), &pb.DeleteLabRequest{Name: name}) })
	// Warm up the server's connection to the lab host, then measure.
	if _, err := ts.client.Labs.GetLab(ctx, &pb.GetLabRequest{Name: name}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	baseline := runtime.NumGoroutine()

	var calls, errs, events atomic.Int64
	var firstErr atomic.Value
	fail := func(err error) {
		errs.Add(1)
		firstErr.CompareAndSwap(nil, err.Error())
	}
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := client.NewUnix(ts.socket)
			if err != nil {
				fail(err)
				return
			}
			defer c.Close()
			wctx, cancel := context.WithTimeout(ctx, hold)
			defer cancel()
			watch, err := c.Labs.WatchLab(wctx, &pb.WatchLabRequest{Name: name, Replay: true})
			if err != nil {
				fail(err)
				return
			}
			done := make(chan struct{})
			go func() {
				defer close(done)
				for {
					if _, err := watch.Recv(); err != nil {
						// The stream ends when its deadline passes (gRPC may
						// see that a moment before wctx does).
						if wctx.Err() == nil && status.Code(err) != codes.DeadlineExceeded {
							fail(err)
						}
						return
					}
					events.Add(1)
				}
			}()
			end, _ := wctx.Deadline()
			for time.Now().Before(end) {
				if _, err := c.Labs.ListLabs(ctx, &pb.ListLabsRequest{}); err != nil {
					fail(err)
				}
				if _, err := c.Labs.GetLab(ctx, &pb.GetLabRequest{Name: name}); err != nil {
					fail(err)
				}
				calls.Add(2)
				time.Sleep(50 * time.Millisecond)
			}
			<-done
		}()
	}
	wg.Wait()
	t.Logf("%d clients for %s: %d unary calls, %d watch events, %d errors", clients, hold, calls.Load(), events.Load(), errs.Load())
	if errs.Load() != 0 {
		t.Fatalf("%d calls failed; first: %v", errs.Load(), firstErr.Load())
	}
	if events.Load() < clients {
		t.Errorf("only %d watch events for %d replaying watchers", events.Load(), clients)
	}
	deadline := time.Now().Add(15 * time.Second)
	for runtime.NumGoroutine() > baseline+2 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > baseline+2 {
		buf := make([]byte, 1<<20)
		t.Fatalf("goroutines: %d after the clients left, baseline %d\n%s", n, baseline, buf[:runtime.Stack(buf, true)])
	}
}
