package lab

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"sync"

	"go.uber.org/zap"

	"github.com/peerlab/peerlab/lab/topology"
	"github.com/peerlab/peerlab/speaker"
)

// Config faults on gobgp nodes, local (embedded speaker) and remote (the
// speaker of the node's agent) alike. Session settings change by deleting
// the neighbor and adding it again with the fault's settings, which GoBGP
// does at once (the peer sees the session closed with Cease 6/3, Peer
// De-configured). The router id is fixed when a GoBGP server starts, so a
// router-id fault replaces the speaker by a new one with the same peers
// and routes.

// InjectFault implements FaultInjector for as-mismatch, router-id-conflict
// and the node's side of md5-mismatch and md5-one-sided.
func (g *gobgpNode) InjectFault(ctx context.Context, f *topology.Fault) (HealFunc, error) {
	return injectGoBGPFault(ctx, f, g.spec, &g.faults, g)
}

// InjectFault implements FaultInjector, as for local gobgp nodes.
func (r *remoteGoBGPNode) InjectFault(ctx context.Context, f *topology.Fault) (HealFunc, error) {
	return injectGoBGPFault(ctx, f, r.spec, &r.faults, r)
}

// overlaySessions implements sessionConfigurer.
func (g *gobgpNode) overlaySessions(ctx context.Context, peer string, fn func(*sessionSettings)) (HealFunc, error) {
	return g.faults.add(ctx, g, gobgpOverlay{peer: peer, session: fn})
}

// overlaySessions implements sessionConfigurer.
func (r *remoteGoBGPNode) overlaySessions(ctx context.Context, peer string, fn func(*sessionSettings)) (HealFunc, error) {
	return r.faults.add(ctx, r, gobgpOverlay{peer: peer, session: fn})
}

// injectGoBGPFault applies a config fault to a gobgp node.
func injectGoBGPFault(ctx context.Context, f *topology.Fault, spec NodeSpec, faults *gobgpFaults, d gobgpDriver) (HealFunc, error) {
	var o gobgpOverlay
	switch f.Name {
	case "as-mismatch":
		fn, err := asMismatch(f, spec.Topology)
		if err != nil {
			return nil, err
		}
		o = gobgpOverlay{peer: f.Peer, session: fn}
	case "md5-mismatch", "md5-one-sided":
		pw := faultPassword(f)
		o = gobgpOverlay{peer: f.Peer, session: func(s *sessionSettings) { s.Password = pw }}
	case "router-id-conflict":
		id, err := faultRouterID(f, spec.Topology)
		if err != nil {
			return nil, err
		}
		o = gobgpOverlay{routerID: id}
	default:
		return nil, fmt.Errorf("%s on gobgp node %s: %w", f.Name, f.Node, ErrFaultUnsupported)
	}
	heal, err := faults.add(ctx, d, o)
	if err != nil {
		return nil, fmt.Errorf("%s on gobgp node %s: %w", f.Name, f.Node, err)
	}
	return heal, nil
}

// gobgpDriver is what applying faults needs from a gobgp node.
type gobgpDriver interface {
	addPeer(ctx context.Context, p speaker.PeerConfig) error
	deletePeer(ctx context.Context, addr netip.Addr) error
	// restartSpeaker replaces the speaker by one with routerID, peers and
	// the node's routes.
	restartSpeaker(ctx context.Context, routerID netip.Addr, peers []speaker.PeerConfig) error
}

// gobgpFaults is a gobgp node's fault state: the topology's peers and
// router id, the overlays of the active faults, and what the speaker runs
// with now.
type gobgpFaults struct {
	mu       sync.Mutex
	base     []speaker.PeerConfig
	baseID   netip.Addr
	overlays []gobgpOverlay
	nextID   int
	current  []speaker.PeerConfig
	routerID netip.Addr
}

// gobgpOverlay is one active fault's change.
type gobgpOverlay struct {
	id int
	// peer limits session to the session with that node; "" means all.
	peer    string
	session func(*sessionSettings)
	// routerID, when valid, replaces the node's router id.
	routerID netip.Addr
}

// init records the topology's settings; nodes call it when built.
func (f *gobgpFaults) init(peers []speaker.PeerConfig, routerID netip.Addr) {
	f.base = slices.Clone(peers)
	f.current = slices.Clone(peers)
	f.baseID, f.routerID = routerID, routerID
}

// add applies o and returns how to take it back. When o cannot be
// applied, what it changed is restored and the error returned.
func (f *gobgpFaults) add(ctx context.Context, d gobgpDriver, o gobgpOverlay) (HealFunc, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	o.id = f.nextID
	f.nextID++
	f.overlays = append(f.overlays, o)
	if err := f.applyLocked(ctx, d); err != nil {
		f.removeLocked(o.id)
		if rerr := f.applyLocked(context.WithoutCancel(ctx), d); rerr != nil {
			err = errors.Join(err, fmt.Errorf("restore: %w", rerr))
		}
		return nil, err
	}
	return func(ctx context.Context) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.removeLocked(o.id)
		return f.applyLocked(ctx, d)
	}, nil
}

// removeLocked drops the overlay id.
func (f *gobgpFaults) removeLocked(id int) {
	f.overlays = slices.DeleteFunc(f.overlays, func(o gobgpOverlay) bool { return o.id == id })
}

// desired is the topology's settings with every overlay applied, in order.
func (f *gobgpFaults) desired() ([]speaker.PeerConfig, netip.Addr) {
	peers := slices.Clone(f.base)
	id := f.baseID
	for _, o := range f.overlays {
		if o.routerID.IsValid() {
			id = o.routerID
		}
		if o.session == nil {
			continue
		}
		for i := range peers {
			if o.peer != "" && peers[i].Name != o.peer {
				continue
			}
			s := sessionSettings{Peer: peers[i].Name, Address: peers[i].Address, ASN: peers[i].ASN, Password: peers[i].Password}
			o.session(&s)
			peers[i].Address, peers[i].ASN, peers[i].Password = s.Address, s.ASN, s.Password
		}
	}
	return peers, id
}

// applyLocked brings the speaker to the desired settings: a new speaker
// when the router id changes, else each changed neighbor deleted and added
// again.
func (f *gobgpFaults) applyLocked(ctx context.Context, d gobgpDriver) error {
	peers, id := f.desired()
	if id != f.routerID || dropsPassword(f.current, peers) {
		if err := d.restartSpeaker(ctx, id, peers); err != nil {
			return fmt.Errorf("restart speaker with router id %s: %w", id, err)
		}
		f.routerID, f.current = id, peers
		return nil
	}
	for i := range peers {
		if reflect.DeepEqual(peers[i], f.current[i]) {
			continue
		}
		if err := d.deletePeer(ctx, f.current[i].Address); err != nil && !errors.Is(err, speaker.ErrPeerNotFound) {
			return fmt.Errorf("delete peer %s: %w", f.current[i].Name, err)
		}
		if err := d.addPeer(ctx, peers[i]); err != nil {
			return fmt.Errorf("add peer %s again: %w", peers[i].Name, err)
		}
		f.current[i] = peers[i]
	}
	return nil
}

// dropsPassword reports whether a neighbor loses its TCP MD5 password
// between from and to. GoBGP v4.8.0 cannot take that back: DeletePeer
// clears the key on its listening socket only when the delete request
// carries the password, which the API's request never does, so the
// listener would keep refusing the peer's unsigned connections. A new
// speaker has a new listener.
func dropsPassword(from, to []speaker.PeerConfig) bool {
	for i := range from {
		if from[i].Password != "" && to[i].Password == "" {
			return true
		}
	}
	return false
}

// addPeer implements gobgpDriver.
func (g *gobgpNode) addPeer(ctx context.Context, p speaker.PeerConfig) error {
	return g.speaker().AddPeer(ctx, p)
}

// deletePeer implements gobgpDriver.
func (g *gobgpNode) deletePeer(ctx context.Context, addr netip.Addr) error {
	return g.speaker().DeletePeer(ctx, addr)
}

// restartSpeaker implements gobgpDriver: the old speaker closes first
// (the new one listens on the same address), subscriptions move to the
// new one before it starts.
func (g *gobgpNode) restartSpeaker(ctx context.Context, routerID netip.Addr, peers []speaker.PeerConfig) error {
	sp, err := speaker.New(localSpeakerConfig(g.spec, routerID))
	if err != nil {
		return err
	}
	g.spMu.Lock()
	if g.stopped {
		g.spMu.Unlock()
		_ = sp.Close()
		return fmt.Errorf("node %s is stopped", g.spec.Node.Name)
	}
	old := g.sp
	g.sp = sp
	for _, s := range g.subs {
		s.unsub()
		s.unsub = sp.Subscribe(g.forward(s.fn))
	}
	g.spMu.Unlock()
	if err := old.Close(); err != nil && g.spec.Logger != nil {
		g.spec.Logger.Warn("close replaced speaker", zap.Error(err))
	}
	if err := sp.Start(ctx); err != nil {
		return err
	}
	for _, p := range peers {
		if err := sp.AddPeer(ctx, p); err != nil {
			return fmt.Errorf("add peer %s: %w", p.Name, err)
		}
	}
	routes, err := nodeRoutes(g.spec.Node)
	if err != nil {
		return err
	}
	if len(routes) > 0 {
		if err := sp.Announce(ctx, routes); err != nil {
			return fmt.Errorf("announce prefixes: %w", err)
		}
	}
	return nil
}

// addPeer implements gobgpDriver.
func (r *remoteGoBGPNode) addPeer(ctx context.Context, p speaker.PeerConfig) error {
	c, err := r.connected()
	if err != nil {
		return err
	}
	return c.AddPeer(ctx, p)
}

// deletePeer implements gobgpDriver.
func (r *remoteGoBGPNode) deletePeer(ctx context.Context, addr netip.Addr) error {
	c, err := r.connected()
	if err != nil {
		return err
	}
	return c.DeletePeer(ctx, addr)
}

// restartSpeaker implements gobgpDriver through the agent's Restart.
func (r *remoteGoBGPNode) restartSpeaker(ctx context.Context, routerID netip.Addr, peers []speaker.PeerConfig) error {
	c, err := r.connected()
	if err != nil {
		return err
	}
	cfg := r.cfg
	cfg.RouterID = routerID
	if err := c.Restart(ctx, cfg); err != nil {
		return err
	}
	for _, p := range peers {
		if err := c.AddPeer(ctx, p); err != nil {
			return fmt.Errorf("add peer %s: %w", p.Name, err)
		}
	}
	if len(r.routes) > 0 {
		if err := c.Announce(ctx, r.routes); err != nil {
			return fmt.Errorf("announce prefixes: %w", err)
		}
	}
	return nil
}
