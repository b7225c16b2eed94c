package diagnose

import (
	"strings"

	"github.com/peerlab/peerlab/internal/lazy"
)

// routerSessionLog recognises what a BGP speaker that is not a Calico
// node logs about its own sessions' states and connect errors (OpenBGPD's
// bgpd, a looking glass or route server peering with the cluster's
// routers):
//
//	Oct 24 13:22:30 lg02 bgpd[101680]: neighbor 217.119.226.1 (ROOTNL1-v4): socket error: Connection refused
//	Oct 24 13:22:30 lg02 bgpd[101680]: neighbor 217.119.226.1 (ROOTNL1-v4): state change Connect -> Active, reason: Connection open failed
//
// Each neighbor becomes a session of the node whose evidence holds the
// log, in the last state the log gives and with the last connect error,
// and the node is marked as a router (no BIRD, no calico-node).
type routerSessionLog struct{}

func (routerSessionLog) Kind() string { return "router-session-log" }
func (routerSessionLog) Whole() bool  { return false }

// openbgpdNeighborRE is OpenBGPD's "neighbor A (description): message".
var openbgpdNeighborRE = lazy.Regexp(`\bbgpd(?:\[\d+\])?: neighbor ([0-9A-Fa-f.:]+)(?: \([^)]*\))?: (.+)$`)

// openbgpdStateRE is "state change FROM -> TO, reason: WHY".
var openbgpdStateRE = lazy.Regexp(`^state change (\w+) -> (\w+)(?:, reason: (.+))?$`)

func (routerSessionLog) Recognize(source string, data []byte) (Observations, []string, bool) {
	type peerLog struct {
		state, lastErr string
		lines          []Line
	}
	var (
		order  []string
		byPeer = map[string]*peerLog{}
		lines  []string
	)
	for _, t := range logLines(data) {
		m := openbgpdNeighborRE().FindStringSubmatch(t)
		if m == nil {
			continue
		}
		a, ok := parseAddr(m[1])
		if !ok {
			continue
		}
		msg := m[2]
		state, errText := "", ""
		switch {
		case strings.HasPrefix(msg, "socket error: "):
			errText = "Socket: " + strings.TrimPrefix(msg, "socket error: ")
		case openbgpdStateRE().MatchString(msg):
			sm := openbgpdStateRE().FindStringSubmatch(msg)
			state = sm[2]
		default:
			continue
		}
		peer := a.String()
		p, seen := byPeer[peer]
		if !seen {
			p = &peerLog{}
			byPeer[peer] = p
			order = append(order, peer)
		}
		if state != "" {
			p.state = state
			if state == "Established" {
				p.lastErr = ""
			}
		}
		if errText != "" {
			p.lastErr = errText
			if p.state == "" || p.state == "Established" {
				p.state = "Active"
			}
		}
		line := Line{source, t}
		p.lines = append(p.lines, line)
		lines = append(lines, t)
	}
	if len(lines) == 0 {
		return Observations{}, nil, false
	}
	obs := Observations{Router: "openbgpd"}
	for _, peer := range order {
		p := byPeer[peer]
		for _, l := range p.lines {
			obs.RouterSessions = append(obs.RouterSessions, RouterSessionObs{
				RouterSession: RouterSession{Peer: peer, State: p.state, LastError: p.lastErr},
				Line:          l,
			})
		}
	}
	return obs, lines, true
}
