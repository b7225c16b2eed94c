package server

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/peerlab/peerlab/diagnose"
	pb "github.com/peerlab/peerlab/proto/peerlab/v1"
)

// Diagnosis serves DiagnosisService. Artifacts are diagnosed in the
// server process (the diagnose package recovers from hostile input).
type Diagnosis struct {
	pb.UnimplementedDiagnosisServiceServer
}

// safeName refuses names that would leave the artifact folder.
func safeName(field, name string, allowEmpty bool) error {
	if name == "" && allowEmpty {
		return nil
	}
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\\\x00") {
		return status.Errorf(codes.InvalidArgument, "%s: %q is not a plain file name", field, name)
	}
	return nil
}

// DiagnoseArtifacts writes the files to a temporary folder laid out as
// `peerlab diagnose --artifacts` expects (one sub-folder per node) and
// diagnoses it.
func (d *Diagnosis) DiagnoseArtifacts(_ context.Context, req *pb.DiagnoseArtifactsRequest) (*pb.DiagnoseArtifactsResponse, error) {
	format := req.GetFormat()
	if format == "" {
		format = "text"
	}
	if format != "text" && format != "json" {
		return nil, status.Errorf(codes.InvalidArgument, "format: %q is not text or json", format)
	}
	if len(req.GetFiles()) == 0 {
		return nil, status.Error(codes.InvalidArgument, "files: at least one artifact file required")
	}
	dir, err := os.MkdirTemp("", "peerlab-artifacts-")
	if err != nil {
		return nil, status.Errorf(codes.Internal, "artifact folder: %v", err)
	}
	defer os.RemoveAll(dir)
	for i, f := range req.GetFiles() {
		if err := safeName(fmt.Sprintf("files[%d].node", i), f.GetNode(), true); err != nil {
			return nil, err
		}
		if err := safeName(fmt.Sprintf("files[%d].name", i), f.GetName(), false); err != nil {
			return nil, err
		}
		sub := filepath.Join(dir, f.GetNode())
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return nil, status.Errorf(codes.Internal, "artifact folder: %v", err)
		}
		if err := os.WriteFile(filepath.Join(sub, f.GetName()), f.GetContent(), 0o644); err != nil {
			return nil, status.Errorf(codes.Internal, "write artifact: %v", err)
		}
	}
	cluster, err := diagnose.LoadArtifacts([]string{dir}, diagnose.ArtifactOptions{})
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "artifacts: %v", err)
	}
	r := diagnose.Diagnose(cluster)
	var buf bytes.Buffer
	if err := diagnose.WriteReport(&buf, r, format); err != nil {
		return nil, status.Errorf(codes.Internal, "render report: %v", err)
	}
	out := &pb.DiagnoseArtifactsResponse{Healthy: r.Healthy, Unknowns: r.Unknowns,
		Rendered: strings.ReplaceAll(buf.String(), dir+string(filepath.Separator), "")}
	for _, f := range r.Findings {
		out.Findings = append(out.Findings, &pb.Finding{Cause: string(f.Cause), Confidence: string(f.Confidence),
			Node: f.Node, Peer: f.Peer, Summary: f.Summary, Evidence: f.Evidence, Remediation: f.Remediation})
	}
	return out, nil
}

// DiagnoseNode is not implemented yet: the diagnose package's lab evidence
// source is being written.
func (d *Diagnosis) DiagnoseNode(_ context.Context, _ *pb.DiagnoseNodeRequest) (*pb.DiagnoseNodeResponse, error) {
	// TODO(issue 6): wire the diagnose package's lab-mode source here once it lands.
	return nil, status.Error(codes.Unimplemented, "DiagnoseNode: lab-node diagnosis is not implemented yet (diagnose lab mode is in progress); use DiagnoseArtifacts")
}
