package capture

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/osrg/gobgp/v4/pkg/packet/bgp"
)

// TestNegotiatePathIDs checks RFC 7911's rule: a speaker sends path
// identifiers for a family when it advertised send and its peer receive.
func TestNegotiatePathIDs(t *testing.T) {
	open := func(tuples ...bgp.CapAddPathTuple) *OpenInfo { return &OpenInfo{addPath: tuples} }
	v4 := func(m bgp.BGPAddPathMode) bgp.CapAddPathTuple {
		return bgp.CapAddPathTuple{Family: bgp.RF_IPv4_UC, Mode: m}
	}
	v6 := func(m bgp.BGPAddPathMode) bgp.CapAddPathTuple {
		return bgp.CapAddPathTuple{Family: bgp.RF_IPv6_UC, Mode: m}
	}
	tests := []struct {
		name             string
		sender, receiver *OpenInfo
		want             pathIDFamilies
	}{
		{"both ends both", open(v4(bgp.BGP_ADD_PATH_BOTH)), open(v4(bgp.BGP_ADD_PATH_BOTH)), pathIDFamilies{bgp.RF_IPv4_UC}},
		{"send to receive", open(v4(bgp.BGP_ADD_PATH_SEND)), open(v4(bgp.BGP_ADD_PATH_RECEIVE)), pathIDFamilies{bgp.RF_IPv4_UC}},
		{"receive only sends none", open(v4(bgp.BGP_ADD_PATH_RECEIVE)), open(v4(bgp.BGP_ADD_PATH_BOTH)), nil},
		{"peer does not receive", open(v4(bgp.BGP_ADD_PATH_BOTH)), open(v4(bgp.BGP_ADD_PATH_SEND)), nil},
		{"peer without capability", open(v4(bgp.BGP_ADD_PATH_BOTH)), open(), nil},
		{"per family", open(v4(bgp.BGP_ADD_PATH_BOTH), v6(bgp.BGP_ADD_PATH_BOTH)), open(v6(bgp.BGP_ADD_PATH_RECEIVE)), pathIDFamilies{bgp.RF_IPv6_UC}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := negotiatePathIDs(tt.sender, tt.receiver); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestUpdateScannerPathIDs decodes UPDATEs whose NLRI carry path
// identifiers (plain IPv4 NLRI and withdrawals, MP_REACH IPv6) with the
// scanner and with GoBGP, and checks that without the negotiated path ids
// the same bytes do not decode to the same prefixes.
func TestUpdateScannerPathIDs(t *testing.T) {
	addPath := &bgp.MarshallingOption{AddPath: map[bgp.Family]bgp.BGPAddPathMode{
		bgp.RF_IPv4_UC: bgp.BGP_ADD_PATH_SEND, bgp.RF_IPv6_UC: bgp.BGP_ADD_PATH_SEND,
	}}
	pathNLRI := func(p string, id uint32) bgp.PathNLRI {
		n, err := bgp.NewIPAddrPrefix(netip.MustParsePrefix(p))
		if err != nil {
			t.Fatal(err)
		}
		return bgp.PathNLRI{NLRI: n, ID: id}
	}
	nh, err := bgp.NewPathAttributeNextHop(netip.MustParseAddr("10.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	attrs := []bgp.PathAttributeInterface{
		bgp.NewPathAttributeOrigin(0),
		bgp.NewPathAttributeAsPath([]bgp.AsPathParamInterface{bgp.NewAs4PathParam(bgp.BGP_ASPATH_ATTR_TYPE_SEQ, []uint32{64512})}),
		nh,
	}
	v4 := bgp.NewBGPUpdateMessage(
		[]bgp.PathNLRI{pathNLRI("10.9.0.0/16", 7)}, attrs,
		[]bgp.PathNLRI{pathNLRI("192.168.1.0/26", 1), pathNLRI("192.168.1.0/26", 2), pathNLRI("10.244.0.0/24", 3)})
	v6nlri := []bgp.PathNLRI{pathNLRI("2001:db8::/32", 9), pathNLRI("2001:db8:1::/48", 10)}
	mp, err := bgp.NewPathAttributeMpReachNLRI(bgp.RF_IPv6_UC, v6nlri, netip.MustParseAddr("2001:db8::1"))
	if err != nil {
		t.Fatal(err)
	}
	v6 := bgp.NewBGPUpdateMessage(nil, []bgp.PathAttributeInterface{bgp.NewPathAttributeOrigin(0), attrs[1], mp}, nil)
	ids := pathIDFamilies{bgp.RF_IPv4_UC, bgp.RF_IPv6_UC}
	for i, m := range []*bgp.BGPMessage{v4, v6} {
		raw, err := m.Serialize(addPath)
		if err != nil {
			t.Fatalf("msg %d: serialize: %v", i, err)
		}
		fast, err := (&messageDecoder{updates: newUpdateScanner()}).update(raw, 1, ids)
		if err != nil {
			t.Fatalf("msg %d scanner: %v", i, err)
		}
		slow, err := (&messageDecoder{gobgpUpdates: true}).update(raw, 1, ids)
		if err != nil {
			t.Fatalf("msg %d gobgp: %v", i, err)
		}
		a, b := (&Event{Kind: KindUpdate, Update: fast}).Summary(), (&Event{Kind: KindUpdate, Update: slow}).Summary()
		if a != b {
			t.Errorf("msg %d:\n scanner %s\n gobgp   %s", i, a, b)
		}
		if i == 0 && (fast.Announced != 3 || fast.Withdrawn != 1 || fast.FirstAnnounced[0] != netip.MustParsePrefix("192.168.1.0/26")) {
			t.Errorf("msg 0: announced %d %v withdrawn %d, want 3 from 192.168.1.0/26 and 1", fast.Announced, fast.FirstAnnounced, fast.Withdrawn)
		}
		if i == 1 && (fast.Announced != 2 || fast.FirstAnnounced[1] != netip.MustParsePrefix("2001:db8:1::/48")) {
			t.Errorf("msg 1: announced %d %v, want 2001:db8::/32 and 2001:db8:1::/48", fast.Announced, fast.FirstAnnounced)
		}
		if plain, err := (&messageDecoder{updates: newUpdateScanner()}).update(raw, 1, nil); err == nil && (&Event{Kind: KindUpdate, Update: plain}).Summary() == a {
			t.Errorf("msg %d decodes the same without path ids: the test does not exercise them", i)
		}
	}
}
