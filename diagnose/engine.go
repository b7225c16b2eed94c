package diagnose

import (
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
	cat := Catalogue()
	var found []Finding
	for _, r := range rules() {
		found = append(found, r.fn(c)...)
	}
	found = mergeFindings(found)
	quoteAffectedPeers(c, found)
	found = append(found, unexplained(c, found)...)
	rank(found, cat)
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
	return rep
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
func rank(fs []Finding, cat []CauseInfo) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
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
		if a.Node != b.Node {
			return a.Node < b.Node
		}
		return a.Peer < b.Peer
	})
}

// unexplained returns an "unknown" finding for each node whose evidence
// shows a problem no finding explains, and one when nothing was recognised.
func unexplained(c *Cluster, fs []Finding) []Finding {
	if len(c.Evidence) == 0 {
		return []Finding{{
			Cause: CauseUnknown, Confidence: Low,
			Summary:  "no input was recognised, so nothing can be said",
			Evidence: []string{},
		}}
	}
	var out []Finding
	for _, n := range c.Nodes {
		label := c.Label(n)
		var lines []Line
		var peers []string
		for _, s := range n.DownSessions() {
			if explained(c, fs, label, s.Peer) {
				continue
			}
			peers = append(peers, s.Peer)
			lines = append(lines, s.Lines...)
		}
		if why, down := n.BirdDown(); down && !explained(c, fs, label, "") {
			lines = append(lines, why...)
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
	return out
}

// explained reports whether a finding accounts for the session of node
// label with peer (peer "" for node-wide problems).
func explained(c *Cluster, fs []Finding, label, peer string) bool {
	peerLabel := ""
	if pn := c.NodeByAddr(peer); pn != nil {
		peerLabel = c.Label(pn)
	}
	for _, f := range fs {
		switch {
		case f.Node == label && (f.Peer == "" || f.Peer == peer):
			return true
		case peer != "" && f.Peer == peer:
			return true
		case peerLabel != "" && f.Node == peerLabel:
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
func quoteAffectedPeers(c *Cluster, fs []Finding) {
	for i := range fs {
		f := &fs[i]
		if f.Peer != "" || f.Node == "" {
			continue
		}
		var target *Node
		for _, n := range c.Nodes {
			if c.Label(n) == f.Node {
				target = n
			}
		}
		if target == nil {
			continue
		}
		addrs := c.Addrs(target)
		for _, n := range c.Nodes {
			if n == target {
				continue
			}
			for _, s := range n.DownSessions() {
				if containsStr(addrs, s.Peer) {
					for _, l := range s.Lines {
						f.Evidence = appendUnique(f.Evidence, l.String())
					}
				}
			}
		}
	}
}
