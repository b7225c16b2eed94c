package diagnose

// newFinding builds a finding quoting lines as its evidence.
func newFinding(cause Cause, conf Confidence, node, peer, summary string, lines []Line) Finding {
	f := Finding{Cause: cause, Confidence: conf, Node: node, Peer: peer, Summary: summary, Evidence: []string{}}
	for _, l := range lines {
		if l.Text != "" {
			f.Evidence = appendUnique(f.Evidence, l.String())
		}
	}
	return f
}

// withSteps puts node- or peer-specific remediation steps before the
// catalogue's generic ones.
func (f Finding) withSteps(steps ...string) Finding {
	f.Remediation = appendUniqueAll(f.Remediation, steps...)
	return f
}

// withNotes records what the evidence could not settle; Diagnose moves
// notes into Report.Unknowns.
func (f Finding) withNotes(notes ...string) Finding {
	f.notes = appendUniqueAll(f.notes, notes...)
	return f
}

// firstLines returns at most n lines.
func firstLines(ls []Line, n int) []Line {
	if len(ls) > n {
		return ls[:n]
	}
	return ls
}

// concat joins line slices.
func concat(ls ...[]Line) []Line {
	var out []Line
	for _, l := range ls {
		out = append(out, l...)
	}
	return out
}
