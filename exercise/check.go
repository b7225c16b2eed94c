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
	// Problems says, for each part that failed, what is still wrong.
	Problems []string
}

// CheckLab verifies the exercise's check against the running lab.
func (e *Exercise) CheckLab(ctx context.Context, r Runner) Result {
	var probs []string
	if e.Check.Established {
		probs = append(probs, e.checkEstablished(ctx, r)...)
	}
	for _, f := range e.Check.Files {
		out, err := r.Exec(ctx, e.Lab(), f.Node, []string{"sh", "-c", `cat "$PEERLAB_NODE_DIR/$1"`, "sh", f.Path})
		switch {
		case err != nil:
			probs = append(probs, fmt.Sprintf("%s: cannot read %s: %v", f.Node, f.Path, err))
		case f.Contains != "" && !strings.Contains(out, f.Contains):
			probs = append(probs, fmt.Sprintf("%s: %s lacks %q: %s", f.Node, f.Path, f.Contains, f.Why))
		case f.Lacks != "" && strings.Contains(out, f.Lacks):
			probs = append(probs, fmt.Sprintf("%s: %s still has %q: %s", f.Node, f.Path, f.Lacks, f.Why))
		}
	}
	for _, c := range e.Check.Commands {
		if _, err := r.Exec(ctx, e.Lab(), c.Node, c.Run); err != nil {
			probs = append(probs, fmt.Sprintf("%s: %s (exit %d)", c.Node, c.Why, exitCode(err)))
		}
	}
	return Result{OK: len(probs) == 0, Problems: probs}
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
