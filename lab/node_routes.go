package lab

import (
	"fmt"

	"github.com/peerlab/peerlab/internal/userfile"
	"github.com/peerlab/peerlab/lab/routes"
	"github.com/peerlab/peerlab/lab/topology"
	"github.com/peerlab/peerlab/speaker"
)

// nodeRoutes turns a node's prefixes and bulk route sources (`routes:`)
// into the routes its speaker announces at start, in one slice so that
// one Announce hands them all to GoBGP and it packs them into full
// UPDATEs. Injector nodes stream the same routes instead
// (kind_injector.go).
func nodeRoutes(n *topology.Node) ([]speaker.Route, error) {
	out := prefixRoutes(n)
	for i, src := range n.Routes {
		err := sourceStream(n, src)(func(r speaker.Route) error {
			out = append(out, r)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("node %s: routes[%d] (line %d): %w", n.Name, i, src.Line, err)
		}
	}
	return out, nil
}

// prefixRoutes is a node's hand-written `prefixes:` as routes. The lab
// address is the next hop the user means for IPv4 prefixes; IPv6 ones
// keep the speaker's own default.
func prefixRoutes(n *topology.Node) []speaker.Route {
	out := make([]speaker.Route, 0, len(n.Prefixes))
	for _, p := range n.Prefixes {
		r := speaker.Route{Prefix: p.Prefix, NextHop: p.NextHop, Communities: p.Communities, Prepend: p.Prepend}
		if !r.NextHop.IsValid() && p.Prefix.Addr().Is4() && n.Address.Is4() {
			r.NextHop = n.Address
		}
		out = append(out, r)
	}
	return out
}

// sourceStream yields the routes of one bulk source, one at a time, with
// their next hop resolved: the source's, else the node's address, for
// routes of that address's family (routes.WithNextHop). A generator never
// holds its table; an MRT dump is read record by record.
func sourceStream(n *topology.Node, src topology.RouteSource) func(yield func(speaker.Route) error) error {
	nh := src.NextHop
	if !nh.IsValid() {
		nh = n.Address
	}
	if src.Generate > 0 {
		g := routes.Generator{Count: src.Generate, From: src.From, Length: src.Length, Variety: src.Variety, Order: src.Order}
		return func(yield func(speaker.Route) error) error { return g.Each(routes.WithNextHop(nh, yield)) }
	}
	return func(yield func(speaker.Route) error) error {
		f, err := userfile.Open(src.MRT)
		if err != nil {
			return fmt.Errorf("open MRT dump: %w", err)
		}
		defer f.Close()
		if err := routes.EachMRT(f, routes.MRTOptions{Limit: src.Limit}, routes.WithNextHop(nh, yield)); err != nil {
			return fmt.Errorf("%s: %w", src.MRT, err)
		}
		return nil
	}
}
