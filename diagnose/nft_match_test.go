package diagnose

import (
	"net/netip"
	"testing"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// nft rule expressions as nft compiles them.
var (
	l4tcp = []expr.Any{
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.IPPROTO_TCP}},
	}
	dport179 = []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{0, 179}},
	}
)

// ip4 is "ip saddr/daddr A" (off 12 or 16), or a /24 as nft loads it
// (three bytes).
func ip4(off uint32, a string, op expr.CmpOp, bytes int) []expr.Any {
	b := netip.MustParseAddr(a).As4()
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: off, Len: uint32(bytes)},
		&expr.Cmp{Op: op, Register: 1, Data: b[:bytes]},
	}
}

func join(parts ...[]expr.Any) []expr.Any {
	var out []expr.Any
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestNftRuleMatching(t *testing.T) {
	n1, n2, n3 := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("10.0.1.3")
	postrouting := &nftables.Chain{Name: "post", Table: &nftables.Table{Name: "nat", Family: nftables.TableFamilyIPv4}}
	filter := &nftables.Chain{Name: "in", Table: &nftables.Table{Name: "filter", Family: nftables.TableFamilyINet}}
	tests := []struct {
		name         string
		chain        *nftables.Chain
		exprs        []expr.Any
		affects12    bool // affects the session 10.0.0.1 - 10.0.0.2
		affects13    bool // affects the session 10.0.0.1 - 10.0.1.3
		translates12 bool // SNATs 10.0.0.1 -> 10.0.0.2:179
		partial      bool
		text         string
	}{
		{"drop from one peer", filter, join(ip4(12, "10.0.0.2", expr.CmpOpEq, 4), l4tcp, dport179, []expr.Any{&expr.Verdict{Kind: expr.VerdictDrop}}),
			true, false, false, false, "table inet filter chain in: ip saddr 10.0.0.2 tcp dport 179 drop"},
		{"drop on 179 from anyone", filter, join(l4tcp, dport179, []expr.Any{&expr.Verdict{Kind: expr.VerdictDrop}}),
			true, true, false, false, "table inet filter chain in: tcp dport 179 drop"},
		{"snat node traffic to the peer", postrouting, join(ip4(12, "10.0.0.1", expr.CmpOpEq, 4), ip4(16, "10.0.0.2", expr.CmpOpEq, 4), l4tcp, dport179, []expr.Any{
			&expr.Immediate{Register: 1, Data: []byte{10, 0, 0, 201}}, &expr.NAT{Type: expr.NATTypeSourceNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: 1}}),
			true, false, true, false, "table ip nat chain post: ip saddr 10.0.0.1 ip daddr 10.0.0.2 tcp dport 179 snat to 10.0.0.201"},
		{"masquerade everything leaving the /24 (nft loads 3 bytes)", postrouting, join(ip4(16, "10.0.0.0", expr.CmpOpNeq, 3), []expr.Any{&expr.Masq{}}),
			false, true, false, false, "table ip nat chain post: ip daddr != 10.0.0.0/24 masquerade"},
		{"snat to the address it has: no change", postrouting, join(ip4(12, "10.0.0.1", expr.CmpOpEq, 4), []expr.Any{
			&expr.Immediate{Register: 1, Data: []byte{10, 0, 0, 1}}, &expr.NAT{Type: expr.NATTypeSourceNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: 1}}),
			true, true, false, false, ""},
		{"interface match is not understood", filter, join([]expr.Any{&expr.Meta{Key: expr.MetaKeyIIFNAME, Register: 1}, &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte("eth1\x00")}}, l4tcp, dport179, []expr.Any{&expr.Verdict{Kind: expr.VerdictDrop}}),
			true, true, false, true, "table inet filter chain in: tcp dport 179 ... drop"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := describeNftRule(tc.chain, &nftables.Rule{Exprs: tc.exprs})
			if got := r.Affects(n1, n2); got != tc.affects12 {
				t.Errorf("Affects(10.0.0.1, 10.0.0.2) = %v, want %v", got, tc.affects12)
			}
			if got := r.Affects(n1, n3); got != tc.affects13 {
				t.Errorf("Affects(10.0.0.1, 10.0.1.3) = %v, want %v", got, tc.affects13)
			}
			if got := r.Translates(n1, n2); got != tc.translates12 {
				t.Errorf("Translates(10.0.0.1 -> 10.0.0.2) = %v, want %v", got, tc.translates12)
			}
			if r.Match.Partial != tc.partial {
				t.Errorf("partial %v, want %v", r.Match.Partial, tc.partial)
			}
			if tc.text != "" && r.Text != tc.text {
				t.Errorf("text %q, want %q", r.Text, tc.text)
			}
		})
	}
	masq := describeNftRule(postrouting, &nftables.Rule{Exprs: join(ip4(16, "10.0.0.0", expr.CmpOpNeq, 3), []expr.Any{&expr.Masq{}})})
	if !masq.Translates(n1, n3) {
		t.Error("masquerade of traffic leaving 10.0.0.0/24 does not translate 10.0.0.1 -> 10.0.1.3")
	}
}
