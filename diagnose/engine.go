package diagnose

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// rule is one piece of reasoning: it looks at the cluster and returns the
// findings it supports.
type rule struct {
	name string
	fn   func(c *Cluster) []Finding
}

// rules lists every rule, wired in this one place.
func rules() []rule {
	return []rule{
		{"apiserver-proxy-down", ruleAPIServerProxyDown},
		{"apiserver-proxy-bad-upstream", ruleAPIServerProxyBadUpstream},
		{"apiserver-unreachable", ruleAPIServerUnreachable},
		{"vxlan-only-bird-check", ruleVXLANOnlyBirdCheck},
		{"bird-unconfigured", ruleBirdUnconfigured},
		{"peer-lacks-protocol", rulePeerLacksProtocol},
		{"bird-down", ruleBirdDown},
		{"connection-refused", ruleConnectionRefused},
		{"connection-reset-closed", ruleConnectionResetOrClosed},
		{"connect-timeout", ruleConnectTimeout},
		{"no-route", ruleNoRoute},
		{"link-down", ruleLinkDown},
		{"passive-waiting", rulePassiveWaiting},
		{"bad-peer-as", notificationRule(2, 2, CauseASMismatch, High)},
		{"bad-bgp-identifier", notificationRule(2, 3, CauseRouterIDConflict, High)},
		{"hold-timer-expired", notificationRule(4, 0, CauseHoldTimerExpired, High)},
		{"unacceptable-hold-time", notificationRule(2, 6, CauseUnacceptableHoldTime, High)},
		{"authentication-failure", notificationRule(2, 5, CauseMD5Mismatch, Medium)},
		{"bad-timers", ruleBadTimers},
		{"bgppeer-as-mismatch", ruleBGPPeerAS},
		{"mesh-disabled-no-peers", ruleMeshDisabled},
		{"peer-selector-matches-nothing", rulePeerSelectorNone},
		{"listen-port-mismatch", ruleListenPort},
		{"rr-cluster-misplaced", ruleRRCluster},
		{"as-config", ruleASConfig},
		{"router-id-config", ruleRouterIDConfig},
		{"md5-kernel", ruleMD5Kernel},
		{"md5-config", ruleMD5Config},
		{"md5-unsupported", ruleMD5Unsupported},
		{"port179-in-use", rulePort179InUse},
		{"source-ip-missing", ruleSourceIPMissing},
		{"wrong-ip-autodetect", ruleWrongIPAutodetect},
		{"autodetected-address", ruleAutodetectedAddr},
		{"bridge-peer", ruleBridgePeer},
		{"config-peer-address", ruleConfigPeerAddr},
		{"router-md5", ruleRouterMD5},
		{"unexplained-symptoms", ruleUnexplainedSymptoms},
		{"unexpected-connect", ruleUnexpectedConnect},
		{"stale-node", ruleStaleNode},
	}
}

// Diagnose runs every rule over the cluster and returns the ranked report.
func Diagnose(c *Cluster) Report {
	r, _ := DiagnoseContext(context.Background(), c)
	return r
}

// DiagnoseContext is Diagnose that stops when ctx is done: it checks ctx
// between rules and between the nodes of its own passes, and then returns
// ctx.Err() and no report. Its time is linear in the evidence: the
// cluster's lookups are indexed once (cluster_index.go) and each node's
// sessions are computed once.
func DiagnoseContext(ctx context.Context, c *Cluster) (Report, error) {
	c.nameFromEvidence()
	c.reindex()
	for _, n := range c.Nodes {
		n.cacheOn, n.sessions, n.events = true, nil, nil
	}
	defer func() {
		for _, n := range c.Nodes {
			n.cacheOn, n.sessions, n.events = false, nil, nil
		}
	}()
	cat := Catalogue()
	var found []Finding
	for _, r := range rules() {
		if err := ctx.Err(); err != nil {
			return Report{}, err
		}
		found = append(found, r.fn(c)...)
	}
	found = mergeFindings(found)
	if err := quoteAffectedPeers(ctx, c, found); err != nil {
		return Report{}, err
	}
	more, err := unexplained(ctx, c, found)
	if err != nil {
		return Report{}, err
	}
	found = append(found, more...)
	rankIn(found, cat, evidenceOrder(c.Evidence))
	rep := Report{Findings: []Finding{}, Evidence: c.Evidence, Unknowns: append([]string{}, c.Unknowns...)}
	if rep.Evidence == nil {
		rep.Evidence = []Evidence{}
	}
	for _, f := range found {
		rep.Unknowns = appendUniqueAll(rep.Unknowns, f.notes...)
		f.notes = nil
		f.Remediation = appendUniqueAll(f.Remediation, causeInfo(cat, f.Cause).Remediation...)
		if f.Evidence == nil {
			f.Evidence = []string{}
		}
		rep.Findings = append(rep.Findings, f)
	}
	rep.Healthy = len(rep.Findings) == 0
	return rep, nil
}

// mergeFindings joins findings of the same cause, node and peer, keeping
// the strongest confidence and every piece of evidence.
func mergeFindings(in []Finding) []Finding {
	var out []Finding
	idx := map[string]int{}
	for _, f := range in {
		k := string(f.Cause) + "\x00" + f.Node + "\x00" + f.Peer
		i, ok := idx[k]
		if !ok {
			idx[k] = len(out)
			out = append(out, f)
			continue
		}
		g := &out[i]
		if f.Confidence.rank() > g.Confidence.rank() {
			g.Confidence, g.Summary = f.Confidence, f.Summary
		}
		g.Evidence = appendUniqueAll(g.Evidence, f.Evidence...)
		g.Remediation = appendUniqueAll(g.Remediation, f.Remediation...)
		g.notes = appendUniqueAll(g.notes, f.notes...)
	}
	return out
}

// rank sorts findings: strongest confidence first, then causes closer to
// the root, then more evidence.
func rank(fs []Finding, cat []CauseInfo) { rankIn(fs, cat, nil) }

// evidenceOrder numbers the recognised lines in the order the inputs
// gave them ("source: line"), for rankIn.
func evidenceOrder(ev []Evidence) map[string]int {
	pos := map[string]int{}
	for _, e := range ev {
		for _, l := range e.Lines {
			k := Line{e.Source, strings.TrimSpace(l)}.String()
			if _, ok := pos[k]; !ok {
				pos[k] = len(pos)
			}
		}
	}
	return pos
}

// firstPos is the earliest position in pos of f's evidence.
func firstPos(f Finding, pos map[string]int) int {
	best := len(pos)
	for _, e := range f.Evidence {
		if p, ok := pos[e]; ok && p < best {
			best = p
		}
	}
	return best
}

// rankIn is rank with one more tie-break before names: the finding whose
// evidence comes first in the inputs (pos, see evidenceOrder), so peers
// the evidence cannot tell apart are listed in the order the user's
// paste lists them.
func rankIn(fs []Finding, cat []CauseInfo, pos map[string]int) {
	keyed := make([]struct {
		f   Finding
		pos int
	}, len(fs))
	for i := range fs {
		keyed[i].f = fs[i]
		if pos != nil {
			keyed[i].pos = firstPos(fs[i], pos)
		}
	}
	sort.SliceStable(keyed, func(i, j int) bool {
		a, b := keyed[i].f, keyed[j].f
		if a.Confidence.rank() != b.Confidence.rank() {
			return a.Confidence.rank() > b.Confidence.rank()
		}
		da, db := causeInfo(cat, a.Cause).Depth, causeInfo(cat, b.Cause).Depth
		if da != db {
			return da < db
		}
		if len(a.Evidence) != len(b.Evidence) {
			return len(a.Evidence) > len(b.Evidence)
		}
		if keyed[i].pos != keyed[j].pos {
			return keyed[i].pos < keyed[j].pos
		}
		if a.Node != b.Node {
			return a.Node < b.Node
		}
		return a.Peer < b.Peer
	})
	for i := range keyed {
		fs[i] = keyed[i].f
	}
}

// unexplained returns an "unknown" finding for each node whose evidence
// shows a problem no finding explains, and one when nothing was recognised.
func unexplained(ctx context.Context, c *Cluster, fs []Finding) ([]Finding, error) {
	if len(c.Evidence) == 0 {
		return []Finding{{
			Cause: CauseUnknown, Confidence: Low,
			Summary:  "no input was recognised, so nothing can be said",
			Evidence: []string{},
		}}, nil
	}
	ex := newExplanations(fs)
	var out []Finding
	for _, n := range c.Nodes {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		label := c.Label(n)
		var lines []Line
		var peers []string
		for _, s := range n.DownSessions() {
			if ex.explained(c, label, s.Peer) {
				continue
			}
			peers = appendUnique(peers, s.Peer)
			lines = append(lines, s.Lines...)
		}
		if why, down := n.BirdDown(); down && !ex.explained(c, label, "") {
			lines = append(lines, why...)
		}
		if !ex.explained(c, label, "") {
			lines = append(lines, unplacedDownProtocols(n)...)
		}
		// NOTIFICATIONs a speaker logged that no rule reads (a Cease, one
		// whose code was not logged).
		for _, ev := range n.Obs.RouterEvents {
			if ev.Neighbor == "" || ex.explained(c, label, ev.Neighbor) {
				continue
			}
			peers = appendUnique(peers, ev.Neighbor)
			lines = append(lines, ev.Line)
		}
		if len(lines) == 0 {
			continue
		}
		sum := fmt.Sprintf("%s: BIRD is not ready and no known cause fits the evidence", orNode(label))
		if len(peers) > 0 {
			sum = fmt.Sprintf("%s: BGP not established with %s and no known cause fits the evidence", orNode(label), strings.Join(peers, ","))
		}
		f := newFinding(CauseUnknown, Low, label, "", sum, lines)
		if len(peers) == 1 {
			f.Peer = peers[0]
		}
		out = append(out, f)
	}
	return out, nil
}

// unplacedDownProtocols returns the rows of n's BGP protocols that are not
// Established and whose peer address nothing names (a plain BIRD
// protocol such as "BtoC" without `show protocols all` or bird.cfg): no
// session can be built for them, yet they are down.
func unplacedDownProtocols(n *Node) []Line {
	cfgPeer := map[string]bool{}
	for _, cfg := range n.Obs.BirdConfigs {
		for _, p := range cfg.Peers {
			cfgPeer[p.Name] = p.Neighbor != ""
		}
	}
	var out []Line
	for _, p := range n.Obs.Protocols {
		if p.Proto != "BGP" || p.NeighborAddress != "" || cfgPeer[p.Name] || peerFromProtocolName(p.Name) != "" {
			continue
		}
		state := p.Info
		if state == "" {
			state = p.BGPState
		}
		if state == "Established" || p.State == "down" && p.InfoDetail == "" && p.LastError == "" {
			continue // up, or disabled by configuration
		}
		out = append(out, p.Line)
		if p.LastErrorLine.Text != "" && p.InfoDetail == "" {
			out = append(out, p.LastErrorLine)
		}
	}
	return out
}

// explained reports whether one of fs accounts for the session of node
// label with peer (peer "" for node-wide problems); see
// explanations.explained. Callers checking many sessions build
// newExplanations once instead.
func explained(c *Cluster, fs []Finding, label, peer string) bool {
	return newExplanations(fs).explained(c, label, peer)
}

// explanations indexes findings by node and peer for explained.
type explanations struct {
	// nodeWide: a finding of that node without a peer; nodePeer: of
	// that node and peer ("node\x00peer"); peer: about that peer; node:
	// any finding of that node.
	nodeWide, nodePeer, peer, node map[string]bool
}

func newExplanations(fs []Finding) explanations {
	ex := explanations{nodeWide: map[string]bool{}, nodePeer: map[string]bool{}, peer: map[string]bool{}, node: map[string]bool{}}
	for _, f := range fs {
		ex.node[f.Node] = true
		if f.Peer == "" {
			ex.nodeWide[f.Node] = true
			continue
		}
		ex.nodePeer[f.Node+"\x00"+f.Peer] = true
		ex.peer[f.Peer] = true
	}
	return ex
}

// explained reports whether a finding accounts for the session of node
// label with peer (peer "" for node-wide problems): one of that node
// without a peer or with this peer, one about the peer, or one of the
// node that owns the peer address.
func (ex explanations) explained(c *Cluster, label, peer string) bool {
	if ex.nodeWide[label] || ex.nodePeer[label+"\x00"+peer] {
		return true
	}
	if peer == "" {
		return false
	}
	if ex.peer[peer] {
		return true
	}
	if pn := c.NodeByAddr(peer); pn != nil {
		if pl := c.Label(pn); pl != "" && ex.node[pl] {
			return true
		}
	}
	return false
}

func orNode(label string) string {
	if label == "" {
		return "the node"
	}
	return label
}

func appendUniqueAll(s []string, vs ...string) []string {
	for _, v := range vs {
		s = appendUnique(s, v)
	}
	return s
}

// quoteAffectedPeers adds to each node-wide finding (no peer) the lines in
// which other nodes report their session to that node down, so the report
// shows the symptom next to its cause.
func quoteAffectedPeers(ctx context.Context, c *Cluster, fs []Finding) error {
	var wanted bool
	for _, f := range fs {
		wanted = wanted || (f.Peer == "" && f.Node != "")
	}
	if !wanted {
		return nil
	}
	// The last node with a label wins, as before; down sessions by peer
	// address, in node order.
	byLabel := map[string]*Node{}
	type downAt struct {
		n *Node
		s Session
	}
	byPeer := map[string][]downAt{}
	for _, n := range c.Nodes {
		if err := ctx.Err(); err != nil {
			return err
		}
		byLabel[c.Label(n)] = n
		for _, s := range n.DownSessions() {
			byPeer[s.Peer] = append(byPeer[s.Peer], downAt{n, s})
		}
	}
	for i := range fs {
		f := &fs[i]
		if f.Peer != "" || f.Node == "" {
			continue
		}
		target := byLabel[f.Node]
		if target == nil {
			continue
		}
		// Sessions towards any of the target's addresses, in node order.
		var hits []downAt
		for _, a := range c.Addrs(target) {
			for _, d := range byPeer[a] {
				if d.n != target {
					hits = append(hits, d)
				}
			}
		}
		sort.Slice(hits, func(i, j int) bool {
			oi, oj := c.nodeOrder(hits[i].n), c.nodeOrder(hits[j].n)
			if oi != oj {
				return oi < oj
			}
			return hits[i].s.Peer < hits[j].s.Peer
		})
		for _, d := range hits {
			for _, l := range d.s.Lines {
				f.Evidence = appendUnique(f.Evidence, l.String())
			}
		}
	}
	return nil
}
