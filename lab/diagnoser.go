package lab

import "context"

// Diagnoser runs the live diagnosis from one node of a running lab, for
// diagnosis expectations. The lab cannot run it itself (the diagnosis
// engine imports the lab); lab/livediag implements it over diagnose.
type Diagnoser interface {
	Diagnose(ctx context.Context, l *Lab, node string) (Diagnosis, error)
}

// Diagnosis is what a live diagnosis concluded.
type Diagnosis struct {
	// Healthy is true when the evidence shows no problem.
	Healthy bool `json:"healthy"`
	// Findings are ranked most likely first.
	Findings []DiagnosisFinding `json:"findings"`
}

// DiagnosisFinding is one finding of a diagnosis, as the report keeps it.
type DiagnosisFinding struct {
	// Cause is a slug of the diagnosis catalogue.
	Cause string `json:"cause"`
	// Confidence is low, medium or high.
	Confidence string `json:"confidence"`
	// Node is the node whose evidence shows the problem (a name or an
	// address), Peer the peer address of the affected session.
	Node string `json:"node,omitempty"`
	Peer string `json:"peer,omitempty"`
	// Summary is the finding's sentence for people.
	Summary string `json:"summary"`
}
