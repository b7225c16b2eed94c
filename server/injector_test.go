package server

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/peerlab/peerlab/client"
	pb "github.com/peerlab/peerlab/proto/peerlab/v1"
)

// injectorAndPeer is a topology of an injector node that peers with a
// gobgp node.
func injectorAndPeer(name string) string {
	return fmt.Sprintf(`name: %s
defaults: {timers: {hold: 9s, keepalive: 3s, connect-retry: 1s}}
nodes:
  up: {address: 10.0.0.1, asn: 65001, kind: injector}
  edge: {address: 10.0.0.2, asn: 65002}
peerings:
  - between: [up, edge]
`, name)
}

// bestPrefixes lists the prefixes of node's best paths.
func bestPrefixes(ctx context.Context, c *client.Client, lab, node string) (map[string]bool, error) {
	s, err := c.Speakers.ListRib(ctx, &pb.ListRibRequest{Lab: lab, Node: node})
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for {
		r, err := s.Recv()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		for _, p := range r.GetPaths() {
			out[p.GetPrefix()] = true
		}
	}
}

// TestInjectorNodeOverGRPC announces and withdraws through an injector
// node with the speaker service, and checks the calls that need a RIB are
// refused with FailedPrecondition.
func TestInjectorNodeOverGRPC(t *testing.T) {
	ts := startServer(t)
	c := ts.client
	ctx := ctxFor(t, 60*time.Second)
	name := labName(t, "a")
	if _, err := c.Labs.CreateLab(ctx, &pb.CreateLabRequest{
		Source: &pb.CreateLabRequest_Yaml{Yaml: injectorAndPeer(name)}, Mode: pb.LabMode_LAB_MODE_LOOPBACK}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = c.Labs.DeleteLab(ctxFor(t, time.Minute), &pb.DeleteLabRequest{Name: name}) })
	if err := c.WaitEstablished(ctx, name, "up", "edge"); err != nil {
		t.Fatal(err)
	}
	want := []string{"198.51.100.0/24", "198.51.101.0/24"}
	routes := []*pb.Route{{Prefix: want[0]}, {Prefix: want[1], Communities: []string{"65000:1"}}}
	if _, err := c.Speakers.AddPaths(ctx, &pb.AddPathsRequest{Lab: name, Node: "up", Routes: routes}); err != nil {
		t.Fatalf("AddPaths on the injector: %v", err)
	}
	waitBest := func(what string, cond func(map[string]bool) bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			got, err := bestPrefixes(ctx, c, name, "edge")
			if err == nil && cond(got) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("edge never held %s: last %v, err %v", what, got, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitBest("both announced routes", func(got map[string]bool) bool { return got[want[0]] && got[want[1]] })
	if _, err := c.Speakers.WithdrawPaths(ctx, &pb.WithdrawPathsRequest{Lab: name, Node: "up", Prefixes: want}); err != nil {
		t.Fatalf("WithdrawPaths on the injector: %v", err)
	}
	waitBest("no injected route", func(got map[string]bool) bool { return !got[want[0]] && !got[want[1]] })

	_, err := bestPrefixes(ctx, c, name, "up")
	if status.Code(err) != codes.FailedPrecondition {
		t.Errorf("ListRib on an injector: %v, want FailedPrecondition", err)
	}
	_, err = c.Speakers.ResetPeer(ctx, &pb.ResetPeerRequest{Lab: name, Node: "up", Address: "10.0.0.2"})
	if status.Code(err) != codes.FailedPrecondition {
		t.Errorf("ResetPeer on an injector: %v, want FailedPrecondition", err)
	}
}
