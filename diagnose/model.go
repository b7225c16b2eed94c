package diagnose

// Confidence says how strongly the evidence supports a finding.
type Confidence string

// Confidence levels, strongest first.
const (
	// High: the evidence names the cause (a NOTIFICATION text, a kernel
	// message) or two independent pieces of evidence agree.
	High Confidence = "high"
	// Medium: the evidence fits this cause best, but another cause could
	// show the same.
	Medium Confidence = "medium"
	// Low: one candidate among several the evidence cannot tell apart.
	Low Confidence = "low"
)

// rank orders confidences: higher is stronger.
func (c Confidence) rank() int {
	switch c {
	case High:
		return 3
	case Medium:
		return 2
	case Low:
		return 1
	}
	return 0
}

// Evidence is one recognised piece of input: a file (or a probe's output)
// and the lines of it the diagnosis looked at.
type Evidence struct {
	// Source is where it came from: a file path, or a probe such as
	// "lab:node1:birdc show protocols".
	Source string `json:"source"`
	// Kind is the recognised format, e.g. "bird-protocols" or "ss-listen".
	Kind string `json:"kind"`
	// Node is the node the evidence belongs to; empty when unknown or
	// cluster-wide.
	Node string `json:"node,omitempty"`
	// Lines are the lines of the source that carry information, verbatim.
	Lines []string `json:"lines"`
}

// Finding is one explanation of what is wrong.
type Finding struct {
	// Cause is a slug from the Catalogue, e.g. "as-mismatch", or "unknown".
	Cause Cause `json:"cause"`
	// Confidence says how strongly the evidence supports the cause.
	Confidence Confidence `json:"confidence"`
	// Node is the node whose evidence shows the problem (a name, or its
	// address when no name is known); empty when it is not known.
	Node string `json:"node,omitempty"`
	// Peer is the BGP peer address of the affected session, if one.
	Peer string `json:"peer,omitempty"`
	// Summary is one sentence for people: what the evidence says.
	Summary string `json:"summary"`
	// Evidence quotes the lines and probe results the finding rests on,
	// each as "source: line".
	Evidence []string `json:"evidence"`
	// Remediation lists concrete steps, most useful first.
	Remediation []string `json:"remediation"`

	// notes are what the rule could not settle, moved to Report.Unknowns.
	notes []string
}

// Report is the result of a diagnosis.
type Report struct {
	// Healthy is true when the evidence shows no problem at all.
	Healthy bool `json:"healthy"`
	// Findings are ranked most likely first.
	Findings []Finding `json:"findings"`
	// Evidence is everything that was recognised.
	Evidence []Evidence `json:"evidence"`
	// Unknowns says what the evidence could not settle and what input
	// would, and which inputs were not recognised.
	Unknowns []string `json:"unknowns"`
}

// Exit statuses of `peerlab diagnose`.
const (
	// ExitHealthy: nothing is wrong.
	ExitHealthy = 0
	// ExitFindings: the report has findings.
	ExitFindings = 1
	// ExitUsage: bad flags or unreadable input.
	ExitUsage = 2
)

// ExitCode returns the exit status for the report: ExitHealthy or
// ExitFindings.
func (r Report) ExitCode() int {
	if r.Healthy {
		return ExitHealthy
	}
	return ExitFindings
}
