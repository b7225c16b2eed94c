// Package livediag runs the live diagnosis (package diagnose) on a node of
// a running lab, for the lab's diagnosis expectations: it is the
// lab.Diagnoser that `peerlab run` and `peerlab serve` wire in. It lives
// apart from the lab because the diagnosis engine imports the lab.
package livediag

import (
	"context"
	"fmt"

	"github.com/peerlab/peerlab/diagnose"
	"github.com/peerlab/peerlab/lab"
)

// Diagnoser diagnoses nodes of labs kept under one state folder.
type Diagnoser struct {
	// StateDir is the labs' state folder ("" means lab.DefaultStateDir()).
	StateDir string
	// Options tune each diagnosis (zero: the CLI's defaults).
	Options diagnose.LiveOptions
}

// New returns a Diagnoser for labs under stateDir.
func New(stateDir string) *Diagnoser { return &Diagnoser{StateDir: stateDir} }

// Diagnose implements lab.Diagnoser: the live diagnosis of node, following
// its down peers into the lab's other nodes, as `peerlab diagnose --lab`
// runs it.
func (d *Diagnoser) Diagnose(ctx context.Context, l *lab.Lab, node string) (lab.Diagnosis, error) {
	dir := d.StateDir
	if dir == "" {
		dir = lab.DefaultStateDir()
	}
	name := l.Topology().Name
	target, err := diagnose.LabTarget(dir, name, node)
	if err != nil {
		return lab.Diagnosis{}, fmt.Errorf("diagnose %s of lab %s: %w", node, name, err)
	}
	resolve, err := diagnose.LabResolver(dir, name)
	if err != nil {
		return lab.Diagnosis{}, fmt.Errorf("diagnose %s of lab %s: %w", node, name, err)
	}
	rep, _ := diagnose.DiagnoseLive(ctx, target, resolve, d.Options)
	out := lab.Diagnosis{Healthy: rep.Healthy}
	for _, f := range rep.Findings {
		out.Findings = append(out.Findings, lab.DiagnosisFinding{
			Cause: string(f.Cause), Confidence: string(f.Confidence),
			Node: f.Node, Peer: f.Peer, Summary: f.Summary,
		})
	}
	return out, nil
}
