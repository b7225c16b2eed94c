package topology

import (
	"net/netip"
	"testing"
)

func TestRouteSources(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []RouteSource
	}{
		{"single mapping, IPv4 default length", "routes: {generate: 10, from: 10.0.0.0/8}",
			[]RouteSource{{Generate: 10, From: netip.MustParsePrefix("10.0.0.0/8"), Length: 24, Line: 5}}},
		{"IPv6 default length and variety", "routes: [{generate: 3, from: '2001:db8::/32', variety: 7}]",
			[]RouteSource{{Generate: 3, From: netip.MustParsePrefix("2001:db8::/32"), Length: 64, Variety: 7, Line: 5}}},
		{"range longer than the default length", "routes: {generate: 1, from: 10.0.0.0/30}",
			[]RouteSource{{Generate: 1, From: netip.MustParsePrefix("10.0.0.0/30"), Length: 30, Line: 5}}},
		{"mrt with limit and next hop", "routes: [{mrt: t.mrt, limit: 9, next-hop: 10.0.0.9}]",
			[]RouteSource{{MRT: "t.mrt", Limit: 9, NextHop: netip.MustParseAddr("10.0.0.9"), Line: 5}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "name: r\nnodes:\n  a:\n    address: 10.0.0.1\n    " + tt.yaml + "\n"
			topo, err := Parse("r.yaml", []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			got := topo.Node("a").Routes
			if len(got) != len(tt.want) {
				t.Fatalf("routes = %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("routes[%d] = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestGeneratedPrefix(t *testing.T) {
	rs := RouteSource{Generate: 10, From: netip.MustParsePrefix("10.0.0.0/8"), Length: 24}
	for p, want := range map[string]bool{"10.1.2.0/24": true, "10.1.2.0/25": false, "11.0.0.0/24": false} {
		if got := rs.GeneratedPrefix(netip.MustParsePrefix(p)); got != want {
			t.Errorf("GeneratedPrefix(%s) = %v, want %v", p, got, want)
		}
	}
}
