package inject

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"

	"github.com/osrg/gobgp/v4/pkg/packet/bgp"

	"github.com/peerlab/peerlab/speaker"
)

// slash24s returns n consecutive /24s from 16.0.0.0.
func slash24s(n int) []netip.Prefix {
	out := make([]netip.Prefix, n)
	for i := range out {
		v := uint32(16)<<24 + uint32(i)<<8
		out[i] = netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), 0}), 24)
	}
	return out
}

// decoded is one route as GoBGP's parser reads it back.
type decoded struct {
	nextHop     netip.Addr
	asPath      []uint32
	communities []uint32
	med, lp     uint32
	hasLP       bool
}

// packAll packs routes and withdrawals with enc and returns the messages.
func packAll(t *testing.T, enc encoding, routes []speaker.Route, withdraw []netip.Prefix) []message {
	t.Helper()
	var out []message
	p := newPacker(enc, MaxMessage, func(m message) { out = append(out, m) })
	for _, r := range routes {
		if err := p.announce(r); err != nil {
			t.Fatalf("announce %v: %v", r.Prefix, err)
		}
	}
	for _, w := range withdraw {
		if err := p.withdraw(w); err != nil {
			t.Fatalf("withdraw %v: %v", w, err)
		}
	}
	p.flush()
	return out
}

// parseAll decodes every message with GoBGP and returns the announced
// routes by prefix and the withdrawn prefixes.
func parseAll(t *testing.T, msgs []message) (map[netip.Prefix]decoded, []netip.Prefix) {
	t.Helper()
	got := map[netip.Prefix]decoded{}
	var withdrawn []netip.Prefix
	for i, m := range msgs {
		if len(m.b) > MaxMessage {
			t.Fatalf("message %d is %d bytes, over %d", i, len(m.b), MaxMessage)
		}
		msg, err := bgp.ParseBGPMessage(m.b)
		if err != nil {
			t.Fatalf("message %d: GoBGP cannot parse it: %v", i, err)
		}
		u := msg.Body.(*bgp.BGPUpdate)
		var d decoded
		var nlri []netip.Prefix
		for _, w := range u.WithdrawnRoutes {
			withdrawn = append(withdrawn, w.NLRI.(*bgp.IPAddrPrefix).Prefix)
		}
		for _, n := range u.NLRI {
			nlri = append(nlri, n.NLRI.(*bgp.IPAddrPrefix).Prefix)
		}
		for _, a := range u.PathAttributes {
			switch a := a.(type) {
			case *bgp.PathAttributeNextHop:
				d.nextHop = a.Value
			case *bgp.PathAttributeAsPath:
				for _, seg := range a.Value {
					d.asPath = append(d.asPath, seg.GetAS()...)
				}
			case *bgp.PathAttributeCommunities:
				d.communities = a.Value
			case *bgp.PathAttributeMultiExitDisc:
				d.med = a.Value
			case *bgp.PathAttributeLocalPref:
				d.lp, d.hasLP = a.Value, true
			case *bgp.PathAttributeMpReachNLRI:
				d.nextHop = a.Nexthop
				for _, n := range a.Value {
					nlri = append(nlri, n.NLRI.(*bgp.IPAddrPrefix).Prefix)
				}
			case *bgp.PathAttributeMpUnreachNLRI:
				for _, n := range a.Value {
					withdrawn = append(withdrawn, n.NLRI.(*bgp.IPAddrPrefix).Prefix)
				}
			}
		}
		if len(nlri) != m.prefixes && len(u.WithdrawnRoutes) == 0 && len(withdrawn) == 0 {
			t.Fatalf("message %d carries %d prefixes, the packer counted %d", i, len(nlri), m.prefixes)
		}
		for _, p := range nlri {
			if _, dup := got[p]; dup {
				t.Fatalf("prefix %s announced twice", p)
			}
			got[p] = d
		}
	}
	return got, withdrawn
}

func TestPackerRoundTrip(t *testing.T) {
	nh4 := netip.MustParseAddr("10.0.0.1")
	nh6 := netip.MustParseAddr("2001:db8::1")
	tests := []struct {
		name  string
		ebgp  bool
		route speaker.Route
		want  decoded
	}{
		{"ebgp minimal", true, speaker.Route{Prefix: netip.MustParsePrefix("16.0.0.0/24")},
			decoded{nextHop: nh4, asPath: []uint32{65001}}},
		{"ebgp full", true, speaker.Route{
			Prefix: netip.MustParsePrefix("16.1.0.0/16"), ASPath: []uint32{64512, 4200000000}, Prepend: 2,
			Communities: []string{"65000:1", "65000:2"}, MED: 50, NextHop: netip.MustParseAddr("10.0.0.9"),
		}, decoded{nextHop: netip.MustParseAddr("10.0.0.9"), asPath: []uint32{65001, 65001, 65001, 64512, 4200000000},
			communities: []uint32{65000<<16 | 1, 65000<<16 | 2}, med: 50}},
		{"ibgp default local pref", false, speaker.Route{Prefix: netip.MustParsePrefix("16.2.3.0/24")},
			decoded{nextHop: nh4, lp: 100, hasLP: true}},
		{"ibgp local pref", false, speaker.Route{Prefix: netip.MustParsePrefix("16.2.4.0/24"), LocalPref: 300, ASPath: []uint32{65100}},
			decoded{nextHop: nh4, lp: 300, hasLP: true, asPath: []uint32{65100}}},
		{"ipv6", true, speaker.Route{Prefix: netip.MustParsePrefix("2001:db8:1::/48")},
			decoded{nextHop: nh6, asPath: []uint32{65001}}},
		{"long as path splits into segments", true, speaker.Route{Prefix: netip.MustParsePrefix("16.9.0.0/24"), Prepend: 300},
			decoded{nextHop: nh4, asPath: slices.Repeat([]uint32{65001}, 301)}},
		{"host bits masked", true, speaker.Route{Prefix: netip.MustParsePrefix("16.7.7.7/24")},
			decoded{nextHop: nh4, asPath: []uint32{65001}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			enc := encoding{localAS: 65001, ebgp: tc.ebgp, nextHop4: nh4, nextHop6: nh6}
			got, _ := parseAll(t, packAll(t, enc, []speaker.Route{tc.route}, nil))
			d, ok := got[tc.route.Prefix.Masked()]
			if !ok || len(got) != 1 {
				t.Fatalf("decoded %v, want only %s", got, tc.route.Prefix.Masked())
			}
			if fmt.Sprint(d) != fmt.Sprint(tc.want) {
				t.Errorf("decoded %+v, want %+v", d, tc.want)
			}
		})
	}
}

func TestPackerFillsUpdates(t *testing.T) {
	enc := encoding{localAS: 65001, ebgp: true, nextHop4: netip.MustParseAddr("10.0.0.1")}
	const n = 10000
	var rs []speaker.Route
	for i, p := range slash24s(n) {
		r := speaker.Route{Prefix: p}
		if i%2 == 1 { // two attribute sets, interleaved
			r.Communities = []string{"65000:1"}
		}
		rs = append(rs, r)
	}
	msgs := packAll(t, enc, rs, nil)
	got, _ := parseAll(t, msgs)
	if len(got) != n {
		t.Fatalf("decoded %d prefixes, want %d", len(got), n)
	}
	// Minimal attributes: 43 bytes of overhead, 4 bytes a /24, so 1013 fit;
	// with the community 7 bytes more, 1011. Two partial messages at most.
	want := (n/2+1012)/1013 + (n/2+1010)/1011
	if len(msgs) != want {
		t.Errorf("%d UPDATEs for %d /24s in two sets, want %d", len(msgs), n, want)
	}
	for _, m := range msgs[:len(msgs)-2] {
		if len(m.b) < MaxMessage-4 {
			t.Errorf("a non-final UPDATE is %d bytes, want it filled to within 4 of %d", len(m.b), MaxMessage)
		}
	}
}

func TestPackerWithdraws(t *testing.T) {
	enc := encoding{localAS: 65001, ebgp: true, nextHop4: netip.MustParseAddr("10.0.0.1")}
	want := append(slash24s(3000), netip.MustParsePrefix("2001:db8:1::/48"), netip.MustParsePrefix("2001:db8:2::/64"))
	msgs := packAll(t, enc, nil, want)
	got, withdrawn := parseAll(t, msgs)
	if len(got) != 0 {
		t.Errorf("withdrawal announced %d prefixes", len(got))
	}
	if !slices.Equal(withdrawn, want) {
		t.Errorf("withdrew %d prefixes (%v...), want %d in order", len(withdrawn), withdrawn[:min(3, len(withdrawn))], len(want))
	}
	// 4073 bytes of withdrawn routes per message: 1018 /24s each.
	if len(msgs) != 3+1 {
		t.Errorf("%d messages, want 3 IPv4 and 1 IPv6", len(msgs))
	}
}

func TestPackerRejects(t *testing.T) {
	enc := encoding{localAS: 65001, ebgp: true, nextHop4: netip.MustParseAddr("10.0.0.1")}
	tests := []struct {
		name string
		r    speaker.Route
	}{
		{"bad community", speaker.Route{Prefix: netip.MustParsePrefix("16.0.0.0/24"), Communities: []string{"x"}}},
		{"ipv6 without next hop", speaker.Route{Prefix: netip.MustParsePrefix("2001:db8::/32")}},
		{"ipv4 route with ipv6 next hop", speaker.Route{Prefix: netip.MustParsePrefix("16.0.0.0/24"), NextHop: netip.MustParseAddr("::1")}},
		{"invalid prefix", speaker.Route{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newPacker(enc, MaxMessage, func(message) {})
			if err := p.announce(tc.r); err == nil {
				t.Errorf("announce(%+v) = nil, want an error", tc.r)
			}
		})
	}
}

func TestEndOfRIBParses(t *testing.T) {
	for _, fam := range []family{ipv4, ipv6} {
		msg, err := bgp.ParseBGPMessage(endOfRIB(fam))
		if err != nil {
			t.Fatalf("%s End-of-RIB: %v", fam, err)
		}
		ok, eor := msg.Body.(*bgp.BGPUpdate).IsEndOfRib()
		if !ok || (fam == ipv6) != (eor == bgp.RF_IPv6_UC) {
			t.Errorf("%s End-of-RIB parsed as end-of-rib=%v family %v", fam, ok, eor)
		}
	}
}
