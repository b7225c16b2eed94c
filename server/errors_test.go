package server

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/peerlab/peerlab/proto/peerlab/v1"
)

// TestStatusCodes checks the status code of each kind of bad call.
func TestStatusCodes(t *testing.T) {
	ts := startServer(t)
	c := ts.client
	ctx := ctxFor(t, 60*time.Second)
	name := labName(t, "a")
	if _, err := c.Labs.CreateLab(ctx, &pb.CreateLabRequest{
		Source: &pb.CreateLabRequest_Yaml{Yaml: twoNodes(name)}, Mode: pb.LabMode_LAB_MODE_LOOPBACK}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = c.Labs.DeleteLab(ctxFor(t, time.Minute), &pb.DeleteLabRequest{Name: name}) })

	tests := []struct {
		name string
		call func() error
		code codes.Code
		msg  string
	}{
		{"unknown lab", func() error {
			_, err := c.Labs.GetLab(ctx, &pb.GetLabRequest{Name: "nope"})
			return err
		}, codes.NotFound, "lab not found"},
		{"unknown node", func() error {
			_, err := c.Speakers.AddPaths(ctx, &pb.AddPathsRequest{Lab: name, Node: "nope"})
			return err
		}, codes.NotFound, "no node"},
		{"bad topology names line and field", func() error {
			_, err := c.Labs.CreateLab(ctx, &pb.CreateLabRequest{Source: &pb.CreateLabRequest_Yaml{
				Yaml: "name: bad\nnodes:\n  a: {address: 10.0.0.1, asn: 99999999999}\n"}})
			return err
		}, codes.InvalidArgument, "yaml:3: nodes.a.asn"},
		{"no source", func() error {
			_, err := c.Labs.CreateLab(ctx, &pb.CreateLabRequest{})
			return err
		}, codes.InvalidArgument, "source"},
		{"same name twice", func() error {
			_, err := c.Labs.CreateLab(ctx, &pb.CreateLabRequest{Source: &pb.CreateLabRequest_Yaml{Yaml: twoNodes(name)}})
			return err
		}, codes.AlreadyExists, name},
		{"network fault in loopback mode", func() error {
			_, err := c.Faults.InjectFault(ctx, &pb.InjectFaultRequest{Lab: name, Fault: &pb.Fault{Name: "tcp179-drop", Node: "node1"}})
			return err
		}, codes.FailedPrecondition, "namespace mode"},
		{"unknown fault", func() error {
			_, err := c.Faults.InjectFault(ctx, &pb.InjectFaultRequest{Lab: name, Fault: &pb.Fault{Name: "meteor", Node: "node1"}})
			return err
		}, codes.InvalidArgument, "fault.name"},
		{"bad prefix", func() error {
			_, err := c.Speakers.AddPaths(ctx, &pb.AddPathsRequest{Lab: name, Node: "node1", Routes: []*pb.Route{{Prefix: "10.1"}}})
			return err
		}, codes.InvalidArgument, "routes[0].prefix"},
		{"unknown capture", func() error {
			s, err := c.Captures.DownloadCapture(ctx, &pb.DownloadCaptureRequest{Lab: name, CaptureId: "nope"})
			if err != nil {
				return err
			}
			_, err = s.Recv()
			return err
		}, codes.NotFound, "capture"},
		{"lab-node diagnosis in loopback mode", func() error {
			_, err := c.Diagnosis.DiagnoseNode(ctx, &pb.DiagnoseNodeRequest{Lab: name, Node: "node1"})
			return err
		}, codes.FailedPrecondition, "needs namespace mode"},
		{"lab-node diagnosis of an unknown node", func() error {
			_, err := c.Diagnosis.DiagnoseNode(ctx, &pb.DiagnoseNodeRequest{Lab: name, Node: "nope"})
			return err
		}, codes.NotFound, "no node"},
		{"artifact name escaping", func() error {
			_, err := c.Diagnosis.DiagnoseArtifacts(ctx, &pb.DiagnoseArtifactsRequest{
				Files: []*pb.ArtifactFile{{Node: "..", Name: "x"}}})
			return err
		}, codes.InvalidArgument, "files[0].node"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			st, _ := status.FromError(err)
			if st.Code() != tt.code || !strings.Contains(st.Message(), tt.msg) {
				t.Errorf("got %v, want code %v with %q", err, tt.code, tt.msg)
			}
		})
	}
}
