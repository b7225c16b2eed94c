package diagnose

import (
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// parseAddrOrZero parses a, or returns the zero Addr.
func parseAddrOrZero(a string) netip.Addr {
	ip, err := netip.ParseAddr(a)
	if err != nil {
		return netip.Addr{}
	}
	return ip.Unmap()
}

// sessionAddr is the address g uses for its session with peer: the
// probe's source, bird.cfg's source or listen address, the source BIRD
// printed, else the namespace's first address.
func (g *nodeGather) sessionAddr(peer, source string) netip.Addr {
	if a := parseAddrOrZero(source); a.IsValid() {
		return a
	}
	if g.cfg != nil {
		for _, p := range g.cfg.Peers {
			if p.Neighbor == peer && p.Source != "" {
				return parseAddrOrZero(p.Source)
			}
		}
		if a := parseAddrOrZero(g.cfg.ListenAddress); a.IsValid() {
			return a
		}
	}
	for _, p := range g.protocols {
		if p.NeighborAddress == peer && p.SourceAddress != "" {
			return parseAddrOrZero(p.SourceAddress)
		}
	}
	for _, a := range g.addrs {
		if !a.IsLoopback() {
			return a
		}
	}
	return netip.Addr{}
}

// nftSource is the evidence source of g's ruleset.
func nftSource(g *nodeGather) string { return "probe:" + g.t.Name + ":nft list ruleset" }

// snatFindings: a source NAT rule in a node's ruleset rewrites the source
// of the BGP connections it opens to a peer, so the peer sees an address
// no protocol names. Both ends of every session probed are checked: the
// node's rule hits its own connects, the peer's rule the peer's.
func snatFindings(f *liveFacts) []Finding {
	var out []Finding
	for _, p := range f.probes {
		peer := parseAddrOrZero(p.Peer)
		pg := f.gatherOf(p.Peer)
		self := f.self.sessionAddr(p.Peer, p.Source)
		ends := []struct {
			g        *nodeGather
			src, dst netip.Addr
		}{{f.self, self, peer}}
		if pg != nil {
			ends = append(ends, struct {
				g        *nodeGather
				src, dst netip.Addr
			}{pg, pg.sessionAddr(self.String(), ""), self})
		}
		for _, e := range ends {
			if !e.src.IsValid() || !e.dst.IsValid() {
				continue
			}
			for _, r := range e.g.nft {
				if !r.Translates(e.src, e.dst) {
					continue
				}
				conf, to := High, "another address"
				if r.SNATTo.IsValid() {
					to = r.SNATTo.String()
				}
				if r.Masq || r.Match.Partial {
					// masquerade keeps the source when it already is the
					// interface's primary address; unknown conditions may
					// not hold
					conf = Medium
				}
				lines := []Line{{nftSource(e.g), r.Text}}
				out = append(out, newFinding(CauseSNATNodeTraffic, conf, p.Node, p.Peer,
					fmt.Sprintf("%s: a source NAT rule on %s rewrites BGP connections from %s to %s:179 to %s, an address the peer has no protocol for", p.Node, e.g.t.Name, e.src, e.dst, to),
					lines).withSteps(fmt.Sprintf("on %s: exclude TCP 179 between the nodes from the rule (nft -a list chain ... ; nft delete rule ... handle N, or an accept before it)", e.g.t.Name)))
			}
		}
	}
	return out
}

// aboutToBreak: a rule drops or rejects the BGP traffic of a session that
// is still Established. The session has not noticed yet (no keepalive has
// been missed for a whole hold time), but it will drop when the hold
// timer runs out: a finding, not health.
func aboutToBreak(f *liveFacts) []Finding {
	var out []Finding
	for _, s := range f.establishedPeers() {
		peer := parseAddrOrZero(s.peer)
		self := f.self.sessionAddr(s.peer, "")
		if !peer.IsValid() || !self.IsValid() {
			continue
		}
		var drops, rejects []Line
		for _, g := range []*nodeGather{f.self, f.gatherOf(s.peer)} {
			if g == nil {
				continue
			}
			for _, r := range g.nft {
				if !r.Port179 || !r.Affects(self, peer) {
					continue
				}
				switch {
				case r.Drop:
					drops = append(drops, Line{nftSource(g), r.Text})
				case r.Reject:
					rejects = append(rejects, Line{nftSource(g), r.Text})
				}
			}
		}
		cause, lines, verb := CauseTCP179Dropped, drops, "drops"
		if len(drops) == 0 {
			cause, lines, verb = CauseTCP179Rejected, rejects, "rejects"
		}
		if len(lines) == 0 {
			continue
		}
		left := "when its hold timer runs out"
		if s.hold.Total > 0 {
			left = fmt.Sprintf("when its hold timer runs out, in about %s (hold time %s)", s.hold.Left.Round(100*time.Millisecond), s.hold.Total)
		}
		conf := High
		if allPartial(f, lines) {
			conf = Medium
		}
		out = append(out, newFinding(cause, conf, f.self.t.Name, s.peer,
			fmt.Sprintf("%s: the session with %s is still Established, but a firewall rule %s its BGP traffic: it goes down %s", f.self.t.Name, s.peer, verb, left),
			concat(s.lines, lines)))
	}
	return out
}

// allPartial reports whether every rule quoted has conditions the
// matcher did not understand.
func allPartial(f *liveFacts, lines []Line) bool {
	for _, l := range lines {
		partial := false
		for _, g := range append([]*nodeGather{f.self}, f.others...) {
			for _, r := range g.nft {
				if r.Text == l.Text && r.Match.Partial {
					partial = true
				}
			}
		}
		if !partial {
			return false
		}
	}
	return true
}

// upSession is an Established session of the diagnosed node.
type upSession struct {
	peer  string
	hold  holdTimer
	lines []Line
}

// holdTimer is the time left of a session's hold timer, when known.
type holdTimer struct{ Left, Total time.Duration }

// establishedPeers lists the diagnosed node's Established sessions: from
// BIRD's protocols (with the hold timer) or the router's sessions.
func (f *liveFacts) establishedPeers() []upSession {
	var out []upSession
	src := f.self.t.Name + "/birdc-show-protocols-all.txt"
	for _, p := range f.self.protocols {
		if p.Proto != "BGP" || !p.Established() || p.NeighborAddress == "" {
			continue
		}
		line := fmt.Sprintf("%s BGP %s %s", p.Name, p.State, strings.TrimSpace(p.Info))
		if p.HoldTimer.Total > 0 {
			line += fmt.Sprintf(" (Hold timer: %.1f/%d)", p.HoldTimer.Left.Seconds(), int(p.HoldTimer.Total.Seconds()))
		}
		out = append(out, upSession{peer: p.NeighborAddress, hold: holdTimer(p.HoldTimer), lines: []Line{{src, line}}})
	}
	for _, rs := range f.self.router {
		if rs.State == "established" || rs.State == "Established" {
			out = append(out, upSession{peer: rs.Peer, lines: []Line{{routerSource(f.self), rs.Text()}}})
		}
	}
	return out
}
