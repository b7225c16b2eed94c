package exercise

import (
	"context"
	"fmt"
	"strings"

	"github.com/peerlab/peerlab/lab/topology"
)

// Result is the verdict of a check.
type Result struct {
	// OK is true when every part of the check passed.
	OK bool
	// Problems says, for each part that failed, what is still wrong,
	// without saying how to fix it.
	Problems []string
	// Answers gives, for each failed file check, the exact text the file
	// must or must not hold: the fix itself, for students who asked for
	// every hint.
	Answers []string
	// CauseFixed is true when the file and command checks pass: what is
	// left, if anything, is sessions that are not Established (yet).
	CauseFixed bool
}

// CheckLab verifies the exercise's check against the running lab.
func (e *Exercise) CheckLab(ctx context.Context, r Runner) Result {
	var probs, answers []string
	for _, f := range e.Check.Files {
		out, err := r.Exec(ctx, e.Lab(), f.Node, []string{"sh", "-c", `cat "$PEERLAB_NODE_DIR/$1"`, "sh", f.Path})
		switch {
		case err != nil:
			probs = append(probs, fmt.Sprintf("%s: cannot read %s: %v", f.Node, f.Path, err))
		case f.Contains != "" && !strings.Contains(out, f.Contains):
			probs = append(probs, fmt.Sprintf("%s: %s: %s", f.Node, f.Path, f.Why))
			answers = append(answers, fmt.Sprintf("%s: %s must contain %q", f.Node, f.Path, f.Contains))
		case f.Lacks != "" && strings.Contains(out, f.Lacks):
			probs = append(probs, fmt.Sprintf("%s: %s: %s", f.Node, f.Path, f.Why))
			answers = append(answers, fmt.Sprintf("%s: %s must not contain %q", f.Node, f.Path, f.Lacks))
		}
	}
	for _, c := range e.Check.Commands {
		if _, err := r.Exec(ctx, e.Lab(), c.Node, c.Run); err != nil {
			probs = append(probs, fmt.Sprintf("%s: %s (exit %d)", c.Node, c.Why, exitCode(err)))
		}
	}
	causeFixed := len(probs) == 0
	if e.Check.Established {
		probs = append(e.checkEstablished(ctx, r), probs...)
	}
	return Result{OK: len(probs) == 0, Problems: probs, Answers: answers, CauseFixed: causeFixed}
}

// checkEstablished reads `birdc show protocols` on every BIRD node: each
// must have one BGP protocol per session of the topology, all Established.
func (e *Exercise) checkEstablished(ctx context.Context, r Runner) []string {
	want := map[string]int{}
	for _, s := range e.Topology.Sessions {
		want[s.A]++
		want[s.B]++
	}
	var probs []string
	for _, n := range e.Topology.Nodes {
		if n.Kind != topology.KindBIRD && n.Kind != topology.KindBIRD2 {
			continue
		}
		out, err := r.Exec(ctx, e.Lab(), n.Name, []string{"birdc", "show", "protocols"})
		if err != nil {
			probs = append(probs, fmt.Sprintf("%s: birdc show protocols: %v", n.Name, err))
			continue
		}
		bgp, up, down := parseProtocols(out)
		if bgp < want[n.Name] {
			probs = append(probs, fmt.Sprintf("%s: BIRD has %d BGP protocol(s), the topology gives it %d sessions", n.Name, bgp, want[n.Name]))
		}
		if up < bgp {
			probs = append(probs, fmt.Sprintf("%s: not Established: %s", n.Name, strings.Join(down, "; ")))
		}
	}
	return probs
}

// parseProtocols counts the BGP protocols in `birdc show protocols` output
// (BIRD 1.6 and 2), how many are Established, and describes the others.
func parseProtocols(out string) (bgp, up int, down []string) {
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || f[1] != "BGP" {
			continue
		}
		bgp++
		info := ""
		// name proto table state since info… (BIRD 2: name proto table state since info)
		if len(f) > 5 {
			info = strings.Join(f[5:], " ")
		}
		if strings.HasPrefix(info, "Established") {
			up++
			continue
		}
		down = append(down, f[0]+" "+f[3]+" "+info)
	}
	return bgp, up, down
}
