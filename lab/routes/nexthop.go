package routes

import (
	"net/netip"

	"github.com/peerlab/peerlab/speaker"
)

// WithNextHop wraps yield so that every route of nh's family gets nh as
// its next hop and every route of the other family gets none (the
// speaker's default for that family). A lab node's address, or a
// source's `next-hop:`, is given to the routes this way.
func WithNextHop(nh netip.Addr, yield func(speaker.Route) error) func(speaker.Route) error {
	return func(r speaker.Route) error {
		if r.Prefix.Addr().Is4() == nh.Is4() {
			r.NextHop = nh
		} else {
			r.NextHop = netip.Addr{}
		}
		return yield(r)
	}
}
