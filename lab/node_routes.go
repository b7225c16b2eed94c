package lab

import (
	"fmt"
	"net/netip"
	"os"

	"github.com/peerlab/peerlab/lab/routes"
	"github.com/peerlab/peerlab/lab/topology"
	"github.com/peerlab/peerlab/speaker"
)

// nodeRoutes turns a node's prefixes and bulk route sources (`routes:`)
// into the routes its speaker announces at start, in one slice so that
// one Announce hands them all to GoBGP and it packs them into full
// UPDATEs. The lab address is the next hop the user means; IPv6 prefixes
// keep the speaker's own default.
func nodeRoutes(n *topology.Node) ([]speaker.Route, error) {
	out := make([]speaker.Route, 0, len(n.Prefixes))
	for _, p := range n.Prefixes {
		r := speaker.Route{Prefix: p.Prefix, NextHop: p.NextHop, Communities: p.Communities, Prepend: p.Prepend}
		if !r.NextHop.IsValid() && p.Prefix.Addr().Is4() && n.Address.Is4() {
			r.NextHop = n.Address
		}
		out = append(out, r)
	}
	for i, src := range n.Routes {
		rs, err := sourceRoutes(n, src)
		if err != nil {
			return nil, fmt.Errorf("node %s: routes[%d] (line %d): %w", n.Name, i, src.Line, err)
		}
		out = append(out, rs...)
	}
	return out, nil
}

// sourceRoutes builds the routes of one bulk source with its next hop
// resolved: the source's, else the node's address for routes of the
// address's family, else the speaker's default.
func sourceRoutes(n *topology.Node, src topology.RouteSource) ([]speaker.Route, error) {
	nh := src.NextHop
	if !nh.IsValid() {
		nh = n.Address
	}
	if src.Generate > 0 {
		g := routes.Generator{Count: src.Generate, From: src.From, Length: src.Length, Variety: src.Variety, Order: src.Order}
		if nh.Is4() == src.From.Addr().Is4() {
			g.NextHop = nh
		}
		return routes.Generate(g)
	}
	f, err := os.Open(src.MRT)
	if err != nil {
		return nil, fmt.Errorf("open MRT dump: %w", err)
	}
	defer f.Close()
	rs, err := routes.ReadMRT(f, routes.MRTOptions{Limit: src.Limit})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", src.MRT, err)
	}
	for i := range rs {
		if nh.Is4() == rs[i].Prefix.Addr().Is4() {
			rs[i].NextHop = nh
		} else {
			rs[i].NextHop = netip.Addr{} // the speaker's default for the family
		}
	}
	return rs, nil
}
