package bird

import (
	"context"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseRouteNetworks(t *testing.T) {
	p := netip.MustParsePrefix
	for _, tc := range []struct {
		name, in string
		want     []netip.Prefix
	}{
		{
			// Raw socket replies captured from BIRD 1.6.8 and 2.0.12.
			name: "bird1 raw, two routes for one net",
			in:   "1007-10.244.1.0/24      blackhole [static1 01:58:47] * (200)\n                    unreachable [s2 01:58:47] (200)\n 10.244.1.0/25      blackhole [static1 01:58:47] * (200)\n0000 \n",
			want: []netip.Prefix{p("10.244.1.0/24"), p("10.244.1.0/25")},
		},
		{
			name: "bird1 raw, primary",
			in:   "1007-10.244.1.0/24      blackhole [static1 01:58:47] * (200)\n0000 \n",
			want: []netip.Prefix{p("10.244.1.0/24")},
		},
		{
			name: "bird2 raw, table heading",
			in:   "1007-Table master4:\n 10.244.1.0/25        blackhole [static1 01:58:47.344] * (200)\n 10.244.1.0/24        blackhole [static1 01:58:47.344] * (200)\n                      unreachable [s2 01:58:47.344] (200)\n0000 \n",
			want: []netip.Prefix{p("10.244.1.0/25"), p("10.244.1.0/24")},
		},
		{
			name: "bird2 birdc, BGP route with next hop line",
			in:   "BIRD 2.0.12 ready.\nTable master4:\n10.244.2.0/24        unicast [Mesh_10_0_0_2 02:01:02.123] * (100/0) [i]\n\tvia 10.0.0.2 on eth0\n",
			want: []netip.Prefix{p("10.244.2.0/24")},
		},
		{
			name: "bird1 birdc -v, BGP route",
			in:   "0001 BIRD 1.6.8 ready.\n1007-10.244.2.0/24      via 10.0.0.2 on eth0 [Mesh_10_0_0_2 02:01:02] * (100/0) [i]\n0000 \n",
			want: []netip.Prefix{p("10.244.2.0/24")},
		},
		{name: "empty", in: "0000 \n", want: nil},
		{name: "not found", in: "8001 Network not in table\n", want: nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseRouteNetworks(strings.NewReader(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// TestHasPrimaryRoute asks real daemons of both versions for a network they
// announce, one inside it, and one they do not hold.
func TestHasPrimaryRoute(t *testing.T) {
	for _, v := range []Version{Bird1, Bird2} {
		t.Run(v.String(), func(t *testing.T) {
			a1, a2, _ := labAddrs()
			p1, _ := labPorts()
			n := startNode(t, v, Config{ASN: 64512, NodeIP: a1, ListenPort: p1, StrictBind: v == Bird2,
				Prefixes: []netip.Prefix{netip.MustParsePrefix("10.244.7.0/26")},
				Peers:    []Peer{{Name: "absent", Address: a2, Port: p1 + 1, ASN: 64512, Kind: KindNode, Passive: true}}})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			for _, tc := range []struct {
				prefix string
				want   bool
			}{
				{"10.244.7.0/26", true},
				{"10.244.7.0/27", false}, // inside the block, not a network of the table
				{"10.244.8.0/24", false},
			} {
				got, err := n.client.HasPrimaryRoute(ctx, netip.MustParsePrefix(tc.prefix))
				if err != nil || got != tc.want {
					t.Errorf("HasPrimaryRoute(%s) = %v, %v; want %v", tc.prefix, got, err, tc.want)
				}
			}
		})
	}
}

func TestParseRouteCountFourDigitCounts(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       int
	}{
		{"plain birdc", "2000 of 2001 routes for 2000 networks\n", 2000},
		{"raw socket", "0014-2000 of 2001 routes for 2000 networks\n0000 \n", 2000},
		{"raw socket, last line", "0014 1234 of 1234 routes for 1234 networks\n", 1234},
		{"bird2 total", "Total: 2000 of 2001 routes for 2000 networks in 1 tables\n", 2000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseRouteCount(strings.NewReader(tc.text))
			if err != nil || got != tc.want {
				t.Fatalf("ParseRouteCount = %d, %v; want %d", got, err, tc.want)
			}
		})
	}
}
