package diagnose

import (
	"fmt"
	"net/netip"
	"strings"
)

// liveFacts is everything the live probes found, for liveFindings.
type liveFacts struct {
	self    *nodeGather
	others  []*nodeGather
	probes  []sessionProbe
	capture captureResult
}

// gatherOf returns the gathered peer node owning addr, or nil.
func (f *liveFacts) gatherOf(addr string) *nodeGather {
	for _, g := range f.others {
		for _, a := range g.addrs {
			if a.String() == addr {
				return g
			}
		}
	}
	return nil
}

// nftLines returns the rules of gs that touch 179, match keep and apply
// to the BGP session between self and peer (any rule when an address is
// unknown).
func nftLines(keep func(nftRule) bool, self, peer netip.Addr, gs ...*nodeGather) []Line {
	var out []Line
	for _, g := range gs {
		if g == nil {
			continue
		}
		for _, r := range g.nft {
			if !r.Port179 || !keep(r) {
				continue
			}
			if self.IsValid() && peer.IsValid() && !r.Affects(self, peer) {
				continue
			}
			out = append(out, Line{"probe:" + g.t.Name + ":nft list ruleset", r.Text})
		}
	}
	return out
}

// liveFindings reasons over the probes. Each finding quotes the probe
// lines it rests on; the rules of the artifacts engine have already seen
// the gathered text.
func liveFindings(c *Cluster, f *liveFacts) []Finding {
	var out []Finding
	for _, p := range f.probes {
		label := p.Node
		src := "probe:" + p.Node + ":session " + p.Peer
		var lines []Line
		for _, l := range p.Lines() {
			lines = append(lines, Line{src, l})
		}
		pg := f.gatherOf(p.Peer)
		if s, ok := f.capture.Peers[p.Peer]; ok {
			lines = append(lines, Line{"probe:" + p.Node + ":capture", s.Line(p.Peer)})
		}
		selfAddr, peerAddr := f.self.sessionAddr(p.Peer, p.Source), parseAddrOrZero(p.Peer)
		drops := nftLines(func(r nftRule) bool { return r.Drop }, selfAddr, peerAddr, f.self, pg)
		rejects := nftLines(func(r nftRule) bool { return r.Reject }, selfAddr, peerAddr, f.self, pg)
		peerLabel := p.Peer
		if pg != nil {
			peerLabel = pg.t.Name
		}
		switch p.Connect {
		case connectNoSource:
			out = append(out, newFinding(CauseSourceIPMissing, High, label, p.Peer,
				fmt.Sprintf("%s: BIRD's source address %s is not on the node: a connect from it fails", label, p.Source), lines))
		case connectNetUnreachable:
			out = append(out, newFinding(CauseNoRouteToPeer, High, label, p.Peer,
				fmt.Sprintf("%s: the kernel has no route to %s (connect: network unreachable)", label, p.Peer), concat(lines, downLinks(f.self))))
		case connectProhibited:
			out = append(out, newFinding(CauseTCP179Rejected, High, label, p.Peer,
				fmt.Sprintf("%s: connects to %s:179 are refused by a firewall (administratively prohibited)", label, p.Peer), concat(lines, rejects)))
		case connectHostUnreachable:
			switch {
			case len(rejects) > 0 || captureSays(f, p.Peer, "prohibited"):
				out = append(out, newFinding(CauseTCP179Rejected, High, label, p.Peer,
					fmt.Sprintf("%s: connects to %s:179 are answered with ICMP administratively prohibited: a firewall rejects TCP 179", label, p.Peer), concat(lines, rejects)))
			case pg != nil && len(pg.linksDown) > 0:
				out = append(out, newFinding(CauseNoRouteToPeer, High, label, p.Peer,
					fmt.Sprintf("%s: %s does not answer ARP: its interface %s is down", label, peerLabel, strings.Join(pg.linksDown, ",")), concat(lines, downLinks(pg))))
			default:
				out = append(out, newFinding(CauseNoRouteToPeer, Medium, label, p.Peer,
					fmt.Sprintf("%s: host %s is unreachable (no ARP answer or an ICMP host unreachable)", label, p.Peer), lines))
			}
		case connectRefused:
			out = append(out, refusedFinding(c, f, p, pg, lines, rejects)...)
		case connectTimeout:
			out = append(out, timeoutFinding(f, p, pg, lines, drops)...)
		case connectOK:
			out = append(out, bgpFinding(f, p, pg, lines)...)
		}
	}
	for _, g := range append([]*nodeGather{f.self}, f.others...) {
		out = append(out, apiProxyFindings(g)...)
	}
	out = append(out, snatFindings(f)...)
	out = append(out, aboutToBreak(f)...)
	return out
}

// downLinks quotes g's interfaces that are down.
func downLinks(g *nodeGather) []Line {
	var out []Line
	for _, l := range g.linksDown {
		out = append(out, Line{g.t.Name + "/ip-addr.txt", "interface " + l + " is down"})
	}
	return out
}

// captureSays reports whether the capture saw an ICMP reason containing s for peer.
func captureSays(f *liveFacts, peer, s string) bool {
	if sum, ok := f.capture.Peers[peer]; ok {
		for _, r := range sum.ICMP {
			if strings.Contains(r, s) {
				return true
			}
		}
	}
	return false
}

// refusedFinding: the peer's kernel (or a firewall) refused the connect.
func refusedFinding(c *Cluster, f *liveFacts, p sessionProbe, pg *nodeGather, lines, rejects []Line) []Finding {
	label := p.Node
	if len(rejects) > 0 {
		return []Finding{newFinding(CauseTCP179Rejected, High, label, p.Peer,
			fmt.Sprintf("%s: connects to %s:179 are reset by a firewall rule", label, p.Peer), concat(lines, rejects))}
	}
	if pg == nil {
		return nil // the engine's connection-refused rule weighs BIRD's own error
	}
	if pn := c.NodeByAddr(p.Peer); pn != nil {
		if _, unconf := pn.Unconfigured(); unconf {
			return nil // peer-bird-unconfigured, from the peer's own evidence
		}
	}
	if pg.isRouter() {
		return nil // a router runs no BIRD: the engine's rules weigh its listener
	}
	var on179 []Line
	birdListens := false
	for _, l := range pg.listeners {
		if l.Port == 179 {
			birdListens = true
			on179 = append(on179, Line{pg.t.Name + "/ss-ltnp.txt", fmt.Sprintf("listening on %s:179", l.Addr)})
		}
	}
	if !birdListens {
		return []Finding{newFinding(CausePeerBirdDown, High, label, p.Peer,
			fmt.Sprintf("%s: %s refuses port 179 and nothing listens on :179 there: BIRD is not running on %s", label, p.Peer, pg.t.Name),
			concat(lines, []Line{{pg.t.Name + "/ss-ltnp.txt", "nothing listens on port 179"}}))}
	}
	return []Finding{newFinding(CauseTCP179Rejected, Medium, label, p.Peer,
		fmt.Sprintf("%s: something listens on %s:179 yet the connect was refused", label, pg.t.Name), concat(lines, on179))}
}

// timeoutFinding: the SYN went unanswered for the connect timeout.
func timeoutFinding(f *liveFacts, p sessionProbe, pg *nodeGather, lines, drops []Line) []Finding {
	label := p.Node
	if len(drops) > 0 {
		return []Finding{newFinding(CauseTCP179Dropped, High, label, p.Peer,
			fmt.Sprintf("%s: connects to %s:179 time out and a firewall rule drops TCP 179", label, p.Peer), concat(lines, drops))}
	}
	if pg != nil && pg.md5.Total() > 0 {
		return []Finding{newFinding(CauseMD5Mismatch, High, label, p.Peer,
			fmt.Sprintf("%s: connects to %s:179 time out and %s's kernel counts TCP MD5 failures: the passwords disagree", label, p.Peer, pg.t.Name),
			concat(lines, []Line{{"probe:" + pg.t.Name + ":/proc/net/netstat", pg.md5.String()}}))}
	}
	if pg != nil && len(pg.linksDown) > 0 {
		return []Finding{newFinding(CauseNoRouteToPeer, High, label, p.Peer,
			fmt.Sprintf("%s: %s does not answer: its interface %s is down", label, pg.t.Name, strings.Join(pg.linksDown, ",")), concat(lines, downLinks(pg)))}
	}
	return []Finding{newFinding(CauseTCP179Dropped, Medium, label, p.Peer,
		fmt.Sprintf("%s: a connect to %s:179 timed out: something drops TCP 179 on the way", label, p.Peer), lines)}
}

// bgpFinding: the connect worked; what did the peer make of our OPEN?
func bgpFinding(f *liveFacts, p sessionProbe, pg *nodeGather, lines []Line) []Finding {
	label := p.Node
	switch {
	case p.BGP == bgpNotification && p.Code == 2 && p.Subcode == 2:
		return []Finding{newFinding(CauseASMismatch, High, label, p.Peer,
			fmt.Sprintf("%s: %s rejects an OPEN with %s's AS: Bad peer AS", label, p.Peer, label), lines)}
	case p.BGP == bgpNotification && p.Code == 2 && p.Subcode == 3:
		return []Finding{newFinding(CauseRouterIDConflict, High, label, p.Peer,
			fmt.Sprintf("%s: %s rejects an OPEN with %s's router id: Bad BGP identifier", label, p.Peer, label), lines)}
	case p.BGP == bgpNotification && p.Code == 2 && p.Subcode == 6:
		return []Finding{newFinding(CauseUnacceptableHoldTime, High, label, p.Peer,
			fmt.Sprintf("%s: %s rejects the hold time", label, p.Peer), lines)}
	case p.BGP == bgpOpen:
		if want := expectedAS(f.self, p.Peer); want != 0 && p.PeerAS != 0 && want != p.PeerAS {
			return []Finding{newFinding(CauseASMismatch, High, label, p.Peer,
				fmt.Sprintf("%s expects AS %d from %s, which opens with AS %d", label, want, p.Peer, p.PeerAS), lines)}
		}
		if f.self.cfg != nil && p.PeerID != "" && p.PeerID == f.self.cfg.RouterID {
			return []Finding{newFinding(CauseRouterIDConflict, High, label, p.Peer,
				fmt.Sprintf("%s and %s both use router id %s", label, p.Peer, p.PeerID), lines)}
		}
	case p.BGP == bgpSilent && pg != nil && !pg.birdOK && !pg.isRouter():
		return []Finding{newFinding(CauseHoldTimerExpired, Medium, label, p.Peer,
			fmt.Sprintf("%s: %s accepts TCP but its BIRD neither speaks BGP nor answers its control socket: BIRD is hung, so keepalives stop", label, pg.t.Name), concat(lines, hungLines(pg)))}
	}
	return nil
}

// hungLines are the lines of pg's control socket probe that found its
// BIRD hung: the evidence that the peer, not the path, went silent.
func hungLines(pg *nodeGather) []Line {
	var out []Line
	for _, e := range pg.evidence {
		if e.Kind != "probe-bird-socket" {
			continue
		}
		for _, l := range e.Lines {
			out = append(out, Line{e.Source, l})
		}
	}
	return out
}

// expectedAS is the AS g's bird.cfg expects from peer.
func expectedAS(g *nodeGather, peer string) uint32 {
	if g.cfg == nil {
		return 0
	}
	for _, p := range g.cfg.Peers {
		if p.Neighbor == peer {
			return p.NeighborAS
		}
	}
	return 0
}

// apiProxyFindings reads g's API proxy probe.
func apiProxyFindings(g *nodeGather) []Finding {
	a := g.api
	if a == nil {
		return nil
	}
	src := "probe:" + g.t.Name + ":api server proxy"
	var lines []Line
	for _, l := range a.Lines() {
		lines = append(lines, Line{src, l})
	}
	switch {
	case !a.ListenOK:
		f := newFinding(CauseAPIServerProxyDown, High, g.t.Name, "",
			fmt.Sprintf("%s: nothing accepts on the local API server proxy %s, so calico-node cannot read the datastore", g.t.Name, a.Listen), lines)
		if a.Manifest != "" && !a.ManifestFound {
			f.Summary = fmt.Sprintf("%s: the nginx-proxy static pod manifest is missing and nothing accepts on the local API server proxy %s, so calico-node cannot read the datastore", g.t.Name, a.Listen)
			f = f.withSteps(fmt.Sprintf("restore the nginx-proxy static pod manifest %s (re-run kubespray's nginx-proxy role, or copy it from a healthy worker); kubelet then starts nginx-proxy", a.Manifest))
		}
		return []Finding{f}
	case !a.ThroughOK && len(a.Upstreams) > 0 && a.UpstreamsOK == 0:
		if allUpstreamsUnknown(a) {
			return []Finding{newFinding(CauseAPIServerProxyBadUpstream, High, g.t.Name, "",
				fmt.Sprintf("%s: the proxy listens but no request gets through it and none of its upstreams answers", g.t.Name), lines)}
		}
		return []Finding{newFinding(CauseAPIServerUnreachable, High, g.t.Name, "",
			fmt.Sprintf("%s: the proxy listens but its upstream API servers do not answer", g.t.Name), lines)}
	case !a.ThroughOK:
		return []Finding{newFinding(CauseAPIServerProxyBadUpstream, Medium, g.t.Name, "",
			fmt.Sprintf("%s: the proxy listens but requests through it fail although an upstream answers directly", g.t.Name), lines)}
	}
	return nil
}

// allUpstreamsUnknown reports whether every upstream failed at connect
// (no route, timeout: nothing there) rather than with an HTTP error.
func allUpstreamsUnknown(a *apiProxyProbe) bool {
	for _, s := range a.Upstreams {
		if strings.Contains(s, "refused") {
			return false // a host that refuses exists: its API server is down
		}
	}
	return true
}

// augment adds the live findings to the engine's report: merged with the
// engine's by cause, node and peer, "unknown" findings they explain
// dropped, ranked again.
func augment(c *Cluster, rep Report, live []Finding) Report {
	if len(live) == 0 {
		return rep
	}
	cat := Catalogue()
	// Live findings go first: where one merges with the engine's, its
	// probe evidence, summary and node-specific steps lead.
	var found []Finding
	for _, f := range live {
		f.Remediation = appendUniqueAll(f.Remediation, causeInfo(cat, f.Cause).Remediation...)
		rep.Unknowns = appendUniqueAll(rep.Unknowns, f.notes...)
		f.notes = nil
		found = append(found, f)
	}
	for _, f := range rep.Findings {
		if f.Cause == CauseUnknown && explained(c, live, f.Node, f.Peer) {
			continue
		}
		if apiPathCause(f.Cause) && probedAPIPath(live, f.Node, f.Cause) {
			continue // the probe walked the proxy path: its cause stands
		}
		found = append(found, f)
	}
	found = mergeFindings(found)
	rank(found, cat)
	rep.Findings = found
	rep.Healthy = len(found) == 0
	return rep
}

// apiPathCause reports whether c is one of the causes on a node's path to
// the API server.
func apiPathCause(c Cause) bool {
	return c == CauseAPIServerProxyDown || c == CauseAPIServerProxyBadUpstream || c == CauseAPIServerUnreachable
}

// probedAPIPath reports whether a live finding names another cause on
// node's API server path: the probe tried the proxy, through it and each
// upstream, so a text rule's different guess (an EOF through the proxy
// read as a bad upstream) is superseded.
func probedAPIPath(live []Finding, node string, c Cause) bool {
	for _, f := range live {
		if f.Node == node && apiPathCause(f.Cause) && f.Cause != c {
			return true
		}
	}
	return false
}
