package netfault

import "github.com/google/nftables/expr"

// NameTCPDrop is the registry name of the fault made by [NewTCPDrop].
const NameTCPDrop = "tcp179-drop"

// NewTCPDrop returns the tcp179-drop fault: BGP packets (TCP to or from the
// BGP port, only to or from the peer when the target names one) are
// silently dropped on the node's input and output hooks. A connecting
// speaker sees its SYN go unanswered until its own timeout; an established
// session stalls until the hold timer expires.
func NewTCPDrop() Fault {
	return &filterFault{name: NameTCPDrop, verdict: func() []expr.Any {
		return []expr.Any{&expr.Verdict{Kind: expr.VerdictDrop}}
	}}
}
