package netfault

import (
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// NameICMPUnreachable is the registry name of the fault made by
// [NewICMPUnreachable].
const NameICMPUnreachable = "icmp-unreachable"

// NewICMPUnreachable returns the icmp-unreachable fault: BGP packets are
// answered with ICMP destination unreachable, administratively prohibited
// (type 3 code 13 for IPv4, ICMPv6 type 1 code 1 for IPv6; nft "reject with
// icmpx admin-prohibited"), which Linux reports to the connecting socket as
// EHOSTUNREACH ("No route to host").
func NewICMPUnreachable() Fault {
	return &filterFault{name: NameICMPUnreachable, verdict: func() []expr.Any {
		return []expr.Any{&expr.Reject{Type: unix.NFT_REJECT_ICMPX_UNREACH, Code: unix.NFT_REJECT_ICMPX_ADMIN_PROHIBITED}}
	}}
}
