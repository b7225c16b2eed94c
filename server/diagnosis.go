package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/peerlab/peerlab/diagnose"
	"github.com/peerlab/peerlab/lab"
	pb "github.com/peerlab/peerlab/proto/peerlab/v1"
)

// Diagnosis serves DiagnosisService. Artifacts are diagnosed in the
// server process (the diagnose package recovers from hostile input); lab
// nodes are diagnosed live in their namespaces.
type Diagnosis struct {
	pb.UnimplementedDiagnosisServiceServer
	// StateDir is the labs' state folder where DiagnoseNode finds labs;
	// "" means lab.DefaultStateDir().
	StateDir string
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
// `peerlab diagnose` expects (one sub-folder per node) and diagnoses it
// within the request's deadline: a deadline that passes (or a cancel)
// stops it between files and rules with DeadlineExceeded (Canceled).
func (d *Diagnosis) DiagnoseArtifacts(ctx context.Context, req *pb.DiagnoseArtifactsRequest) (*pb.DiagnoseArtifactsResponse, error) {
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
	r, err := diagnose.DiagnoseArtifacts(ctx, []string{dir}, diagnose.ArtifactOptions{})
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return nil, toStatus(err, "DiagnoseArtifacts")
	case err != nil:
		return nil, status.Errorf(codes.InvalidArgument, "artifacts: %v", err)
	}
	var buf bytes.Buffer
	if err := diagnose.WriteReport(&buf, r, format); err != nil {
		return nil, status.Errorf(codes.Internal, "render report: %v", err)
	}
	out := &pb.DiagnoseArtifactsResponse{Healthy: r.Healthy, Unknowns: r.Unknowns,
		Rendered: strings.ReplaceAll(buf.String(), dir+string(filepath.Separator), "")}
	for _, f := range r.Findings {
		out.Findings = append(out.Findings, findingToProto(f))
	}
	return out, nil
}

// DiagnoseNode diagnoses a node of a running namespace lab live, as
// `peerlab diagnose --lab LAB --node NODE` does: the lab is found by its
// state file under StateDir, and the lab nodes that are its peers are
// gathered too.
func (d *Diagnosis) DiagnoseNode(ctx context.Context, req *pb.DiagnoseNodeRequest) (*pb.DiagnoseNodeResponse, error) {
	if err := required("lab", req.GetLab()); err != nil {
		return nil, err
	}
	if err := required("node", req.GetNode()); err != nil {
		return nil, err
	}
	stateDir := d.StateDir
	if stateDir == "" {
		stateDir = lab.DefaultStateDir()
	}
	st, err := lab.ReadState(stateDir, req.GetLab())
	if err != nil {
		return nil, toStatus(err, "DiagnoseNode")
	}
	if _, ok := st.Nodes[req.GetNode()]; !ok {
		return nil, status.Errorf(codes.NotFound, "node: lab %s has no node %q", req.GetLab(), req.GetNode())
	}
	if st.Mode != lab.ModeNamespace {
		return nil, status.Errorf(codes.FailedPrecondition, "lab %s runs in %s mode: live diagnosis needs namespace mode", req.GetLab(), st.Mode)
	}
	target, err := diagnose.LabTarget(stateDir, req.GetLab(), req.GetNode())
	if err != nil {
		return nil, status.Errorf(codes.FailedPrecondition, "DiagnoseNode: %v", err)
	}
	resolve, err := diagnose.LabResolver(stateDir, req.GetLab())
	if err != nil {
		return nil, status.Errorf(codes.FailedPrecondition, "DiagnoseNode: %v", err)
	}
	r, _ := diagnose.DiagnoseLive(ctx, target, resolve, diagnose.LiveOptions{})
	var buf bytes.Buffer
	if err := diagnose.WriteReport(&buf, r, "text"); err != nil {
		return nil, status.Errorf(codes.Internal, "render report: %v", err)
	}
	out := &pb.DiagnoseNodeResponse{Healthy: r.Healthy, Unknowns: r.Unknowns, Rendered: buf.String()}
	for _, f := range r.Findings {
		out.Findings = append(out.Findings, findingToProto(f))
	}
	return out, nil
}

// findingToProto converts one finding.
func findingToProto(f diagnose.Finding) *pb.Finding {
	return &pb.Finding{Cause: string(f.Cause), Confidence: string(f.Confidence), Node: f.Node, Peer: f.Peer,
		Summary: f.Summary, Evidence: f.Evidence, Remediation: f.Remediation}
}
