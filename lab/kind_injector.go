package lab

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"

	"github.com/peerlab/peerlab/speaker"
	"github.com/peerlab/peerlab/speaker/inject"
)

// injectorNode is a node played by speaker/inject: a send-mostly speaker
// that packs its table once into full UPDATEs. It runs inside the lab's
// process in both modes; in namespace mode its sockets are made in the
// node's namespace.
type injectorNode struct {
	spec  NodeSpec
	cfg   inject.Config
	names map[netip.Addr]string // peer bind address -> node name

	mu sync.Mutex
	in *inject.Injector // nil before Start and after Stop
}

// RouteInjector is implemented by nodes that announce and withdraw routes
// on demand without a RIB to query (injector nodes).
type RouteInjector interface {
	Announce(ctx context.Context, routes []speaker.Route) error
	Withdraw(ctx context.Context, prefixes []netip.Prefix) error
}

// newInjectorNode builds the injector's configuration from the topology.
func newInjectorNode(spec NodeSpec) (Node, error) {
	n := spec.Node
	cfg := inject.Config{
		Address:  spec.Bind(n.Name),
		AS:       n.ASN,
		RouterID: n.RouterID,
		Port:     spec.Port,
		HoldTime: n.Timers.Hold,
		Logger:   spec.Logger,
	}
	if n.Timers.ConnectRetry > 0 {
		cfg.ConnectRetry = n.Timers.ConnectRetry
	}
	cfg.NextHop6 = n.Address // the lab address, IPv4-mapped when IPv4
	if spec.Namespace != nil {
		cfg.Do = spec.Namespace.Do
	}
	names := map[netip.Addr]string{}
	for _, s := range spec.Sessions {
		other := s.Other(n.Name)
		as := spec.Topology.Node(other).ASN
		if v, ok := s.PeerASN[other]; ok {
			as = v
		}
		addr := spec.Bind(other)
		cfg.Peers = append(cfg.Peers, inject.Peer{Address: addr, AS: as, Passive: s.Passive == n.Name})
		names[addr] = other
	}
	if len(cfg.Peers) == 0 {
		return nil, fmt.Errorf("injector %s: it has no sessions", n.Name)
	}
	return &injectorNode{spec: spec, cfg: cfg, names: names}, nil
}

// Start loads the node's prefixes and route sources into the table, then
// starts the sessions, so the whole table leaves packed at Established.
func (j *injectorNode) Start(ctx context.Context) error {
	n := j.spec.Node
	in, err := inject.New(j.cfg)
	if err != nil {
		return fmt.Errorf("injector %s: %w", n.Name, err)
	}
	if err := in.Announce(prefixRoutes(n)); err != nil {
		return fmt.Errorf("injector %s: prefixes: %w", n.Name, err)
	}
	for i, src := range n.Routes {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := in.Load(sourceStream(n, src)); err != nil {
			return fmt.Errorf("injector %s: routes[%d] (line %d): %w", n.Name, i, src.Line, err)
		}
	}
	if err := in.Start(); err != nil {
		return fmt.Errorf("injector %s: %w", n.Name, err)
	}
	j.mu.Lock()
	j.in = in
	j.mu.Unlock()
	return nil
}

// running returns the started injector or an error.
func (j *injectorNode) running() (*inject.Injector, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.in == nil {
		return nil, fmt.Errorf("injector %s is not running", j.spec.Node.Name)
	}
	return j.in, nil
}

// Stop closes every session with a Cease NOTIFICATION.
func (j *injectorNode) Stop() error {
	j.mu.Lock()
	in := j.in
	j.in = nil
	j.mu.Unlock()
	if in == nil {
		return nil
	}
	return in.Close()
}

// Sessions reports each peer's session as the injector sees it.
func (j *injectorNode) Sessions(context.Context) ([]SessionStatus, error) {
	in, err := j.running()
	if err != nil {
		return nil, err
	}
	var out []SessionStatus
	for _, st := range in.Stats() {
		s := SessionStatus{Local: j.spec.Node.Name, Remote: j.names[st.Peer], State: string(st.State), LastError: st.LastError}
		if nf := st.Notification; nf != nil {
			s.Notification = &Notification{Code: nf.Code, Subcode: nf.Subcode,
				Name: speaker.NotificationName(nf.Code, nf.Subcode), Sent: nf.Direction == "sent"}
		}
		out = append(out, s)
	}
	return out, nil
}

// errNoRIB is HasRoute's answer: an injector does not keep what it receives.
var errNoRIB = errors.New("an injector node keeps no RIB: check routes at its peers")

// HasRoute always fails: injector nodes drop what they receive.
func (j *injectorNode) HasRoute(context.Context, netip.Prefix) (bool, error) {
	return false, fmt.Errorf("node %s: %w", j.spec.Node.Name, errNoRIB)
}

// Announce packs routes as one batch into the running table.
func (j *injectorNode) Announce(_ context.Context, rs []speaker.Route) error {
	in, err := j.running()
	if err != nil {
		return err
	}
	return in.Announce(rs)
}

// Withdraw withdraws prefixes in as few UPDATEs as they fit.
func (j *injectorNode) Withdraw(_ context.Context, prefixes []netip.Prefix) error {
	in, err := j.running()
	if err != nil {
		return err
	}
	return in.Withdraw(prefixes)
}

// Injector returns the running injector, nil when it is not running (for
// tests and benchmarks that read its counters).
func (j *injectorNode) Injector() *inject.Injector {
	in, _ := j.running()
	return in
}
