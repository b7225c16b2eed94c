package lab

import (
	"context"
	"fmt"
	"net/netip"
	"sync"

	"github.com/peerlab/peerlab/lab/topology"
	"github.com/peerlab/peerlab/speaker"
)

// gobgpNode is a node played by an embedded GoBGP speaker.
type gobgpNode struct {
	spec  NodeSpec
	peers []speaker.PeerConfig
	names map[netip.Addr]string // bind address -> peer node name

	// spMu guards sp, which a router-id fault replaces by a new speaker,
	// and subs, the subscriptions carried over to it.
	spMu    sync.Mutex
	sp      *speaker.Speaker
	subs    map[uint64]*gobgpSub
	nextSub uint64
	stopped bool

	// faults holds what active faults change (kind_gobgp_faults.go).
	faults gobgpFaults
}

// gobgpSub is one subscriber and its subscription on the current speaker.
type gobgpSub struct {
	fn    func(SessionEvent)
	unsub func()
}

// newGoBGPNode builds the speaker and its peer list from the topology.
func newGoBGPNode(spec NodeSpec) (Node, error) {
	if spec.Namespace != nil {
		return newRemoteGoBGPNode(spec)
	}
	n := spec.Node
	sp, err := speaker.New(localSpeakerConfig(spec, n.RouterID))
	if err != nil {
		return nil, fmt.Errorf("configure speaker %s: %w", n.Name, err)
	}
	g := &gobgpNode{spec: spec, sp: sp, names: map[netip.Addr]string{}, subs: map[uint64]*gobgpSub{}}
	for _, s := range spec.Sessions {
		pc, err := gobgpPeer(spec, s)
		if err != nil {
			return nil, err
		}
		g.peers = append(g.peers, pc)
		g.names[pc.Address] = pc.Name
	}
	g.faults.init(g.peers, n.RouterID)
	return g, nil
}

// localSpeakerConfig is the embedded speaker's configuration with routerID
// as its router id.
func localSpeakerConfig(spec NodeSpec, routerID netip.Addr) speaker.Config {
	n := spec.Node
	return speaker.Config{
		Name:          n.Name,
		Families:      speakerFamilies(spec.Sessions),
		ASN:           n.ASN,
		RouterID:      routerID,
		ListenAddress: spec.Bind(n.Name),
		ListenPort:    spec.Port,
		ClusterID:     n.ClusterID,
		Logger:        spec.Logger,
	}
}

// gobgpPeer turns one topology session into the speaker's view of its peer.
func gobgpPeer(spec NodeSpec, s *topology.Session) (speaker.PeerConfig, error) {
	self := spec.Node
	otherName := s.Other(self.Name)
	other := spec.Topology.Node(otherName)
	if other == nil {
		return speaker.PeerConfig{}, fmt.Errorf("session %s-%s: node %s not in topology", s.A, s.B, otherName)
	}
	asn := other.ASN
	if v, ok := s.PeerASN[otherName]; ok {
		asn = v
	}
	timers := self.Timers
	if s.Timers != nil {
		timers = *s.Timers
	}
	pc := speaker.PeerConfig{
		Name:                 otherName,
		Address:              spec.Bind(otherName),
		Port:                 spec.Port,
		LocalAddress:         spec.Bind(self.Name),
		ASN:                  asn,
		RouteReflectorClient: s.Reflector == self.Name,
		Passive:              passiveEnd(s, spec.Topology) == self.Name,
		Password:             s.Password,
		Multihop:             s.Multihop,
		TTLSecurity:          s.TTLSecurity,
		Timers: speaker.Timers{
			Hold:         timers.Hold,
			Keepalive:    timers.Keepalive,
			ConnectRetry: timers.ConnectRetry,
		},
	}
	for _, f := range s.Families {
		pc.Families = append(pc.Families, speaker.Family(f))
	}
	return pc, nil
}

// Start starts the speaker, configures its peers and announces its prefixes.
func (g *gobgpNode) Start(ctx context.Context) error {
	sp := g.speaker()
	if err := sp.Start(ctx); err != nil {
		return fmt.Errorf("start speaker %s: %w", g.spec.Node.Name, err)
	}
	// Routes go in before the peers: a table loaded at start then leaves
	// packed when each session comes up.
	routes, err := nodeRoutes(g.spec.Node)
	if err != nil {
		return err
	}
	if len(routes) > 0 {
		if err := sp.Announce(ctx, routes); err != nil {
			return fmt.Errorf("announce prefixes of %s: %w", g.spec.Node.Name, err)
		}
	}
	for _, p := range g.peers {
		if err := sp.AddPeer(ctx, p); err != nil {
			return fmt.Errorf("add peer %s to %s: %w", p.Name, g.spec.Node.Name, err)
		}
	}
	return nil
}

// Stop closes the speaker.
func (g *gobgpNode) Stop() error {
	g.spMu.Lock()
	g.stopped = true
	sp := g.sp
	g.spMu.Unlock()
	return sp.Close()
}

// Speaker exposes the embedded speaker for callers that drive it directly.
// A router-id fault replaces it, so callers should not keep it.
func (g *gobgpNode) Speaker() *speaker.Speaker { return g.speaker() }

// speaker is the current speaker.
func (g *gobgpNode) speaker() *speaker.Speaker {
	g.spMu.Lock()
	defer g.spMu.Unlock()
	return g.sp
}

// Sessions reports the speaker's peers.
func (g *gobgpNode) Sessions(ctx context.Context) ([]SessionStatus, error) {
	peers, err := g.speaker().Peers(ctx)
	if err != nil {
		return nil, fmt.Errorf("list peers of %s: %w", g.spec.Node.Name, err)
	}
	out := make([]SessionStatus, 0, len(peers))
	for _, p := range peers {
		out = append(out, SessionStatus{
			Local:        g.spec.Node.Name,
			Remote:       g.peerName(p.Address, p.Peer),
			State:        string(p.State),
			LastError:    p.LastError,
			Notification: fromSpeaker(p.Notification),
		})
	}
	return out, nil
}

// HasRoute looks prefix up among the speaker's best paths.
func (g *gobgpNode) HasRoute(ctx context.Context, prefix netip.Prefix) (bool, error) {
	fam := speaker.IPv4Unicast
	if prefix.Addr().Is6() {
		fam = speaker.IPv6Unicast
	}
	paths, err := g.speaker().RIB(ctx, speaker.TableBest, netip.Addr{}, fam)
	if err != nil {
		return false, fmt.Errorf("read RIB of %s: %w", g.spec.Node.Name, err)
	}
	for _, p := range paths {
		if p.Prefix == prefix {
			return true, nil
		}
	}
	return false, nil
}

// Subscribe forwards the speaker's state changes as lab events, from the
// speaker that replaces it too.
func (g *gobgpNode) Subscribe(fn func(SessionEvent)) func() {
	g.spMu.Lock()
	defer g.spMu.Unlock()
	id := g.nextSub
	g.nextSub++
	sub := &gobgpSub{fn: fn, unsub: g.sp.Subscribe(g.forward(fn))}
	g.subs[id] = sub
	return func() {
		g.spMu.Lock()
		defer g.spMu.Unlock()
		if s, ok := g.subs[id]; ok {
			s.unsub()
			delete(g.subs, id)
		}
	}
}

// forward turns the speaker's events into lab events for fn.
func (g *gobgpNode) forward(fn func(SessionEvent)) func(speaker.Event) {
	return func(e speaker.Event) {
		fn(SessionEvent{
			Time:         e.Time,
			Local:        g.spec.Node.Name,
			Remote:       g.peerName(e.Address, e.Peer),
			From:         string(e.From),
			To:           string(e.To),
			Reason:       e.Reason,
			Notification: fromSpeaker(e.Notification),
		})
	}
}

// peerName prefers the lab's own name for a peer address.
func (g *gobgpNode) peerName(addr netip.Addr, fallback string) string {
	if n, ok := g.names[addr]; ok {
		return n
	}
	if fallback != "" {
		return fallback
	}
	return addr.String()
}

// fromSpeaker converts the speaker's NOTIFICATION into the lab's.
func fromSpeaker(n *speaker.Notification) *Notification {
	if n == nil {
		return nil
	}
	return &Notification{Code: n.Code, Subcode: n.Subcode, Name: n.Name, Sent: n.Sent}
}

// SpeakerNode is implemented by nodes played by an embedded speaker, for
// callers (tests, the gRPC API) that drive the speaker directly.
type SpeakerNode interface {
	Speaker() *speaker.Speaker
}

// speakerFamilies is the union of the families of a node's sessions: the
// speaker keeps RIB tables only for those.
func speakerFamilies(sessions []*topology.Session) []speaker.Family {
	seen := map[string]bool{}
	var out []speaker.Family
	for _, s := range sessions {
		for _, f := range s.Families {
			if !seen[f] {
				seen[f] = true
				out = append(out, speaker.Family(f))
			}
		}
	}
	return out
}

// passiveEnd names the end of s that waits for the other to connect. The
// topology's `passive:` wins; when it is unset and both ends are embedded
// GoBGP speakers, the end with the lower address waits, as in Calico's
// node-to-node mesh. Two GoBGP v4.8.0 speakers dialling each other at once
// sometimes resolve the connection collision on different connections and
// sit in OpenConfirm until the hold timer fires; one passive end avoids it
// without changing anything BGP itself negotiates.
func passiveEnd(s *topology.Session, topo *topology.Topology) string {
	if s.Passive != "" {
		return s.Passive
	}
	a, b := topo.Node(s.A), topo.Node(s.B)
	if a == nil || b == nil || a.Kind != topology.KindGoBGP || b.Kind != topology.KindGoBGP {
		return ""
	}
	if a.Address.Less(b.Address) {
		return a.Name
	}
	return b.Name
}
