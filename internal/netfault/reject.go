package netfault

import (
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// NameTCPReject is the registry name of the fault made by [NewTCPReject].
const NameTCPReject = "tcp179-reject"

// NewTCPReject returns the tcp179-reject fault: BGP packets are answered
// with a TCP reset ("reject with tcp reset"), so a connect fails at once
// with ECONNREFUSED and an established session is reset.
//
// Segments that carry RST are let through: the reset the input chain makes
// leaves through the output hook, where the output chain would otherwise
// swallow it, and a reset is never answered with a reset anyway.
func NewTCPReject() Fault {
	return &filterFault{name: NameTCPReject, match: notRST, verdict: func() []expr.Any {
		return []expr.Any{&expr.Reject{Type: unix.NFT_REJECT_TCP_RST}}
	}}
}
