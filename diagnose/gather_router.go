package diagnose

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/peerlab/peerlab/lab/agent"
)

// RouterSession is one BGP session of a router node (a GoBGP speaker or
// an injector the lab runs in the role of a ToR, an upstream or a route
// reflector) as the router itself reports it.
type RouterSession struct {
	// Peer is the peer's address; PeerName its lab name, if known.
	Peer, PeerName string
	// State is the BGP state, "Established", "Active", "Idle"...
	State string
	// LastError is the router's disconnect reason ("" when none).
	LastError string
	// Sent and Received are the last NOTIFICATION the router sent to and
	// received from the peer, nil when none was seen.
	Sent, Received *RouterNotification
}

// RouterNotification is a NOTIFICATION a router sent or received.
type RouterNotification struct {
	// Code and Subcode; Code 0 when the router did not report it.
	Code, Subcode uint8
	// Name is the RFC name, "OPEN Message Error / Bad Peer AS".
	Name string
}

// Established reports whether the session is up.
func (s RouterSession) Established() bool { return strings.EqualFold(s.State, "Established") }

// Text renders the session as one evidence line.
func (s RouterSession) Text() string {
	who := s.Peer
	if s.PeerName != "" {
		who += " (" + s.PeerName + ")"
	}
	out := fmt.Sprintf("session with %s: %s", who, s.State)
	if s.LastError != "" {
		out += ", disconnect reason: " + s.LastError
	}
	if n := s.Sent; n != nil {
		out += fmt.Sprintf("; NOTIFICATION %s sent to %s", n.text(), s.Peer)
	}
	if n := s.Received; n != nil {
		out += fmt.Sprintf("; NOTIFICATION %s received from %s", n.text(), s.Peer)
	}
	return out
}

func (n *RouterNotification) text() string {
	if n.Code == 0 {
		return "(code not reported) " + n.Name
	}
	return fmt.Sprintf("%d/%d %s", n.Code, n.Subcode, n.Name)
}

// RouterReader reads a router node's sessions.
type RouterReader func(ctx context.Context) ([]RouterSession, error)

// maxRouterEvents bounds the events read back from a router's log.
const maxRouterEvents = 4096

// AgentRouter reads the sessions of a namespace-mode gobgp node from its
// agent's socket: each peer's state and disconnect reason, and from the
// agent's event log the last NOTIFICATION sent to and received from each.
func AgentRouter(socket string) RouterReader {
	return func(ctx context.Context) ([]RouterSession, error) {
		c, err := agent.Dial(ctx, socket)
		if err != nil {
			return nil, err
		}
		defer c.Disconnect()
		peers, err := c.Peers(ctx)
		if err != nil {
			return nil, fmt.Errorf("router sessions: %w", err)
		}
		sent, recv := map[string]*RouterNotification{}, map[string]*RouterNotification{}
		var since uint64
		for read := 0; read < maxRouterEvents; {
			evs, next, _, err := c.Events(ctx, since, 0)
			if err != nil || len(evs) == 0 {
				break
			}
			for _, e := range evs {
				if n := e.Notification; n != nil {
					rn := &RouterNotification{Code: n.Code, Subcode: n.Subcode, Name: n.Name}
					if n.Sent {
						sent[e.Address.String()] = rn
					} else {
						recv[e.Address.String()] = rn
					}
				}
			}
			read += len(evs)
			since = next
		}
		var out []RouterSession
		for _, p := range peers {
			a := p.Address.String()
			s := RouterSession{Peer: a, PeerName: p.Peer, State: string(p.State), LastError: p.LastError, Sent: sent[a], Received: recv[a]}
			if n := p.Notification; n != nil {
				rn := &RouterNotification{Code: n.Code, Subcode: n.Subcode, Name: n.Name}
				if n.Sent {
					s.Sent = rn
				} else if s.Received == nil || rn.Code != 0 {
					s.Received = rn
				}
			}
			out = append(out, s)
		}
		sort.Slice(out, func(i, j int) bool { return out[i].Peer < out[j].Peer })
		return out, nil
	}
}

// isRouter reports whether g is a router node (no BIRD).
func (g *nodeGather) isRouter() bool { return g.t.Router != nil || IsRouterKind(g.t.Kind) }

// routerSource is the evidence source of g's router sessions.
func routerSource(g *nodeGather) string { return "lab:" + g.t.Name + ":router sessions" }

// readRouter asks the router node for its sessions.
func (g *nodeGather) readRouter(ctx context.Context, t NodeTarget, timeout time.Duration) {
	if t.Router == nil {
		return
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ss, err := t.Router(cctx)
	if err != nil {
		g.note("%s router sessions: %v", t.Kind, err)
		return
	}
	g.router = ss
	lines := []string{}
	var b strings.Builder
	for _, s := range ss {
		lines = append(lines, s.Text())
		b.WriteString(s.Text() + "\n")
	}
	if len(lines) == 0 {
		lines = append(lines, "no BGP sessions configured")
	}
	g.artifact("router-sessions.txt", "lab: "+t.Kind+" node's sessions", []byte(b.String()))
	g.evidence = append(g.evidence, Evidence{Source: routerSource(g), Kind: "lab-router-sessions", Node: t.Name, Lines: lines})
}

// routerObservations are what g's router sessions say, for the cluster.
func (g *nodeGather) routerObservations() Observations {
	obs := Observations{Router: g.t.Kind}
	if obs.Router == "" {
		obs.Router = "router"
	}
	src := routerSource(g)
	for _, s := range g.router {
		obs.RouterSessions = append(obs.RouterSessions, RouterSessionObs{RouterSession: s, Line: Line{src, s.Text()}})
	}
	return obs
}

// IsRouterKind reports whether a lab node kind plays a router (a ToR, an
// upstream, a route reflector) rather than a Calico node: it runs no BIRD.
func IsRouterKind(kind string) bool { return kind == "gobgp" || kind == "injector" }
