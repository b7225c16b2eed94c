package server

import (
	"context"
	"os"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/peerlab/peerlab/proto/peerlab/v1"
)

// TestDiagnoseArtifactsDeadline checks that DiagnoseArtifacts honours the
// request's context: a passed deadline gives DeadlineExceeded, a cancel
// Canceled, and a live context the diagnosis.
func TestDiagnoseArtifactsDeadline(t *testing.T) {
	data, err := os.ReadFile("../diagnose/testdata/artifacts/as-mismatch-bird2/q")
	if err != nil {
		t.Fatal(err)
	}
	req := &pb.DiagnoseArtifactsRequest{Files: []*pb.ArtifactFile{{Node: "n1", Name: "protocols.txt", Content: data}}}
	expired, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Millisecond))
	defer cancel()
	cancelled, cancel2 := context.WithCancel(context.Background())
	cancel2()
	d := &Diagnosis{StateDir: t.TempDir()}
	for _, tc := range []struct {
		name string
		ctx  context.Context
		want codes.Code
	}{
		{"deadline passed", expired, codes.DeadlineExceeded},
		{"cancelled", cancelled, codes.Canceled},
		{"live", context.Background(), codes.OK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := d.DiagnoseArtifacts(tc.ctx, req)
			if got := status.Code(err); got != tc.want {
				t.Fatalf("code %v (%v), want %v", got, err, tc.want)
			}
			if tc.want == codes.OK && (len(resp.GetFindings()) == 0 || resp.GetFindings()[0].GetCause() != "as-mismatch") {
				t.Errorf("findings %v, want as-mismatch first", resp.GetFindings())
			}
		})
	}
}
