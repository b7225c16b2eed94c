// Package livediag runs the live diagnosis (package diagnose) on a node of
// a running lab, for the lab's diagnosis expectations: it is the
// lab.Diagnoser that `peerlab run` and `peerlab serve` wire in. It lives
// apart from the lab because the diagnosis engine imports the lab.
package livediag

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

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
	if _, err := lab.ReadState(dir, name); errors.Is(err, lab.ErrLabNotFound) {
		// A lab `peerlab run` plays publishes no state file; the
		// diagnosis finds it through a private view of its folder.
		view, err := stateView(l)
		if err != nil {
			return lab.Diagnosis{}, fmt.Errorf("diagnose %s of lab %s: %w", node, name, err)
		}
		defer os.RemoveAll(view)
		dir = view
	}
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

// stateView makes a temporary state folder in which l is published (its
// state file, and its node folders through a link), for a lab whose owner
// publishes none. The caller removes it.
func stateView(l *lab.Lab) (string, error) {
	view, err := os.MkdirTemp("", "peerlab-diag-")
	if err != nil {
		return "", fmt.Errorf("make a state view: %w", err)
	}
	topo := l.Topology()
	st := lab.LabState{Name: topo.Name, Mode: l.Mode(), PID: os.Getpid(), Started: l.Started(), Nodes: map[string]string{}}
	for _, n := range topo.Nodes {
		st.Nodes[n.Name] = n.Kind
	}
	labDir := lab.LabDir(view, topo.Name)
	err = os.MkdirAll(labDir, 0o755)
	if err == nil {
		err = os.Symlink(filepath.Join(l.Dir(), "nodes"), filepath.Join(labDir, "nodes"))
	}
	if err == nil {
		err = lab.WriteState(view, st)
	}
	if err != nil {
		os.RemoveAll(view)
		return "", fmt.Errorf("make a state view: %w", err)
	}
	return view, nil
}
