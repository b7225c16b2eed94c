package netfault

import (
	"encoding/binary"
	"net/netip"

	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// Offsets of the fields the rules match on.
const (
	tcpSportOffset = 0
	tcpDportOffset = 2
	tcpFlagsOffset = 13
	tcpFlagRST     = 0x04
	ip4SrcOffset   = 12
	ip4DstOffset   = 16
	ip6SrcOffset   = 8
	ip6DstOffset   = 24
)

// direction picks the source or destination address field.
type direction int

const (
	src direction = iota
	dst
)

// isTCP matches TCP of either IP version ("meta l4proto tcp").
func isTCP() []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.IPPROTO_TCP}},
	}
}

// portIs matches a TCP source or destination port ("tcp sport/dport").
// It must follow isTCP.
func portIs(d direction, port uint16) []expr.Any {
	off := uint32(tcpSportOffset)
	if d == dst {
		off = tcpDportOffset
	}
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: off, Len: 2},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binary.BigEndian.AppendUint16(nil, port)},
	}
}

// notRST matches TCP segments without the RST flag ("tcp flags & rst ==
// 0"). It must follow isTCP.
func notRST() []expr.Any {
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: tcpFlagsOffset, Len: 1},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 1, Mask: []byte{tcpFlagRST}, Xor: []byte{0}},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{0}},
	}
}

// addrIs matches the source or destination address ("ip saddr",
// "ip6 daddr" …). In an inet table it first checks the IP version
// ("meta nfproto"), so an IPv4 address never compares against IPv6 bytes.
func addrIs(d direction, a netip.Addr, inet bool) []expr.Any {
	var out []expr.Any
	proto := byte(unix.NFPROTO_IPV4)
	off := uint32(ip4SrcOffset)
	if d == dst {
		off = ip4DstOffset
	}
	if a.Is6() {
		proto, off = unix.NFPROTO_IPV6, ip6SrcOffset
		if d == dst {
			off = ip6DstOffset
		}
	}
	if inet {
		out = append(out,
			&expr.Meta{Key: expr.MetaKeyNFPROTO, Register: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{proto}},
		)
	}
	b := a.AsSlice()
	return append(out,
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: off, Len: uint32(len(b))},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: b},
	)
}

// concat joins expression lists into one rule.
func concat(parts ...[]expr.Any) []expr.Any {
	var out []expr.Any
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}
