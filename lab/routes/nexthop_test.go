package routes

import (
	"net/netip"
	"testing"

	"github.com/peerlab/peerlab/speaker"
)

func TestWithNextHop(t *testing.T) {
	nh := netip.MustParseAddr("10.0.0.1")
	tests := []struct {
		route speaker.Route
		want  netip.Addr
	}{
		{speaker.Route{Prefix: netip.MustParsePrefix("16.0.0.0/24"), NextHop: netip.MustParseAddr("192.0.2.7")}, nh},
		{speaker.Route{Prefix: netip.MustParsePrefix("2001:db8::/32"), NextHop: netip.MustParseAddr("2001:db8::7")}, netip.Addr{}},
	}
	for _, tc := range tests {
		t.Run(tc.route.Prefix.String(), func(t *testing.T) {
			var got netip.Addr
			err := WithNextHop(nh, func(r speaker.Route) error {
				got = r.NextHop
				return nil
			})(tc.route)
			if err != nil || got != tc.want {
				t.Errorf("next hop %v (err %v), want %v", got, err, tc.want)
			}
		})
	}
}
