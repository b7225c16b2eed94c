package diagnose

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"

	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// nftMatch is what an nftables rule matches, as far as the diagnosis
// understands it: address and port comparisons. Conditions it does not
// understand (interface names, set lookups, marks) make it Partial: the
// rule may not apply to a given packet even when every understood
// condition holds.
type nftMatch struct {
	// Src and Dst are "ip saddr" / "ip daddr" comparisons.
	Src, Dst []addrCond
	// Sport and Dport are "tcp sport" / "tcp dport" comparisons.
	Sport, Dport []portCond
	// Partial is true when the rule has conditions not understood.
	Partial bool
}

// addrCond is one address comparison: the address is (or, with Neq, is
// not) in Prefix.
type addrCond struct {
	Prefix netip.Prefix
	Neq    bool
}

// portCond is one port comparison.
type portCond struct {
	Port uint16
	Neq  bool
}

// bgpPacket is one packet of a BGP session as a rule sees it.
type bgpPacket struct {
	Src, Dst     netip.Addr
	Sport, Dport uint16
}

// sessionPackets are the packets of a BGP session between a and b on
// port: each end connecting to the other's port, and each answering.
func sessionPackets(a, b netip.Addr, port uint16) []bgpPacket {
	const eph = 40000 // any port that is not the BGP port
	return []bgpPacket{
		{a, b, eph, port}, {b, a, port, eph}, // a connects to b
		{b, a, eph, port}, {a, b, port, eph}, // b connects to a
	}
}

// Matches reports whether the understood conditions of the rule hold for
// p.
func (m nftMatch) Matches(p bgpPacket) bool {
	for _, c := range m.Src {
		if c.Prefix.Contains(p.Src) == c.Neq {
			return false
		}
	}
	for _, c := range m.Dst {
		if c.Prefix.Contains(p.Dst) == c.Neq {
			return false
		}
	}
	for _, c := range m.Sport {
		if (c.Port == p.Sport) == c.Neq {
			return false
		}
	}
	for _, c := range m.Dport {
		if (c.Port == p.Dport) == c.Neq {
			return false
		}
	}
	return true
}

// nftOffsets of the header fields the matcher reads.
const (
	nftIP4Src  = 12
	nftIP4Dst  = 16
	nftIP6Src  = 8
	nftIP6Dst  = 24
	nftTCPSrc  = 0
	nftTCPDst  = 2
	fieldNone  = ""
	fieldSrc   = "saddr"
	fieldDst   = "daddr"
	fieldSport = "sport"
	fieldDport = "dport"
	fieldProto = "proto"
)

// parseNftMatch reads the comparisons of a rule's expressions: a payload
// load (optionally masked by a bitwise) followed by a cmp is understood
// for IPv4/IPv6 addresses and TCP ports, a meta load of the L4 protocol
// or NF protocol too; every other load that feeds a comparison or a
// lookup makes the match partial.
func parseNftMatch(exprs []expr.Any) nftMatch {
	var m nftMatch
	field, width := fieldNone, 0
	var mask []byte
	for _, e := range exprs {
		switch x := e.(type) {
		case *expr.Payload:
			field, width, mask = payloadField(x), int(x.Len), nil
			if field == fieldNone {
				m.Partial = true
			}
		case *expr.Meta:
			field, mask = fieldNone, nil
			if x.Key == expr.MetaKeyL4PROTO || x.Key == expr.MetaKeyNFPROTO || x.Key == expr.MetaKeyPROTOCOL {
				field = fieldProto
			} else {
				m.Partial = true
			}
		case *expr.Bitwise:
			mask = x.Mask
		case *expr.Cmp:
			m.addCmp(field, width, mask, x)
			field, mask = fieldNone, nil
		case *expr.Lookup, *expr.Range, *expr.Ct:
			m.Partial = true
		}
	}
	return m
}

// addCmp records one comparison of the loaded field.
func (m *nftMatch) addCmp(field string, width int, mask []byte, x *expr.Cmp) {
	if x.Op != expr.CmpOpEq && x.Op != expr.CmpOpNeq {
		m.Partial = true
		return
	}
	neq := x.Op == expr.CmpOpNeq
	switch field {
	case fieldSrc, fieldDst:
		p, ok := cmpPrefix(x.Data, width, mask)
		if !ok {
			m.Partial = true
			return
		}
		if field == fieldSrc {
			m.Src = append(m.Src, addrCond{p, neq})
		} else {
			m.Dst = append(m.Dst, addrCond{p, neq})
		}
	case fieldSport, fieldDport:
		if len(x.Data) != 2 || mask != nil {
			m.Partial = true
			return
		}
		c := portCond{binary.BigEndian.Uint16(x.Data), neq}
		if field == fieldSport {
			m.Sport = append(m.Sport, c)
		} else {
			m.Dport = append(m.Dport, c)
		}
	case fieldProto:
		if len(x.Data) == 1 && x.Data[0] != unix.IPPROTO_TCP && x.Data[0] != unix.NFPROTO_IPV4 && x.Data[0] != unix.NFPROTO_IPV6 {
			m.Partial = true // a protocol test the matcher does not follow
		}
	default:
		m.Partial = true
	}
}

// payloadField names the header field a payload expression loads.
func payloadField(p *expr.Payload) string {
	switch p.Base {
	case expr.PayloadBaseNetworkHeader:
		switch {
		case (p.Offset == nftIP4Src && p.Len <= 4) || (p.Offset == nftIP6Src && p.Len > 4 && p.Len <= 16):
			return fieldSrc
		case (p.Offset == nftIP4Dst && p.Len <= 4) || (p.Offset == nftIP6Dst && p.Len > 4 && p.Len <= 16):
			return fieldDst
		}
	case expr.PayloadBaseTransportHeader:
		switch {
		case p.Offset == nftTCPSrc && p.Len == 2:
			return fieldSport
		case p.Offset == nftTCPDst && p.Len == 2:
			return fieldDport
		}
	}
	return fieldNone
}

// cmpPrefix turns the compared bytes of an address load (width bytes,
// masked by mask when a bitwise preceded the cmp) into a prefix: nft
// loads only the leading bytes of a byte-aligned prefix and masks the
// others.
func cmpPrefix(data []byte, width int, mask []byte) (netip.Prefix, bool) {
	if len(data) != width || width == 0 {
		return netip.Prefix{}, false
	}
	full := 4
	if width > 4 {
		full = 16
	}
	b := make([]byte, full)
	copy(b, data)
	bits := width * 8
	if mask != nil {
		if len(mask) != width {
			return netip.Prefix{}, false
		}
		bits = 0
		for _, mb := range mask {
			for i := 7; i >= 0; i-- {
				if mb&(1<<i) == 0 {
					goto done
				}
				bits++
			}
		}
	done:
		if !bytes.Equal(maskBytes(bits, width), mask) {
			return netip.Prefix{}, false // not a prefix mask
		}
	}
	a, ok := netip.AddrFromSlice(b)
	if !ok {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(a, bits).Masked(), true
}

// maskBytes is a prefix mask of bits over width bytes.
func maskBytes(bits, width int) []byte {
	out := make([]byte, width)
	for i := 0; i < bits; i++ {
		out[i/8] |= 0x80 >> (i % 8)
	}
	return out
}

// String renders the understood conditions as nft prints them
// ("ip saddr 10.0.0.1 tcp dport 179"), with "..." for the rest.
func (m nftMatch) String() string {
	var out []string
	addr := func(field string, cs []addrCond) {
		for _, c := range cs {
			v := c.Prefix.String()
			if c.Prefix.IsSingleIP() {
				v = c.Prefix.Addr().String()
			}
			ip := "ip"
			if c.Prefix.Addr().Is6() {
				ip = "ip6"
			}
			op := ""
			if c.Neq {
				op = "!= "
			}
			out = append(out, fmt.Sprintf("%s %s %s%s", ip, field, op, v))
		}
	}
	port := func(field string, cs []portCond) {
		for _, c := range cs {
			op := ""
			if c.Neq {
				op = "!= "
			}
			out = append(out, fmt.Sprintf("tcp %s %s%d", field, op, c.Port))
		}
	}
	addr(fieldSrc, m.Src)
	addr(fieldDst, m.Dst)
	port(fieldSport, m.Sport)
	port(fieldDport, m.Dport)
	if m.Partial {
		out = append(out, "...")
	}
	return strings.Join(out, " ")
}
