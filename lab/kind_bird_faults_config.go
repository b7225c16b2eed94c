package lab

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync"

	"github.com/peerlab/peerlab/internal/bird"
	"github.com/peerlab/peerlab/lab/topology"
)

// Config faults on BIRD nodes re-render the node's configuration with the
// fault's change and load it with `configure`, as an operator editing
// bird.cfg would. BIRD restarts a protocol whose configuration changed
// (the peer sees Cease 6/6, Other configuration change) and keeps the
// others. A new router id needs nothing more: BIRD 1.6 and 2 both restart
// their BGP protocols with it on `configure` (seen in faults_config_test.go).

// birdFaults is a BIRD node's fault state: the topology's configuration and
// the overlays of the active faults.
type birdFaults struct {
	mu       sync.Mutex
	base     bird.Config
	overlays []birdOverlay
	nextID   int
}

// birdOverlay is one active fault's change to the configuration.
type birdOverlay struct {
	id int
	fn func(*bird.Config)
}

// injectConfigFault applies a configuration fault to a BIRD node:
// as-mismatch, router-id-conflict, and the node's side of md5-mismatch and
// md5-one-sided (the lab-level md5 faults adjust the peer's side).
func (b *birdNode) injectConfigFault(ctx context.Context, f *topology.Fault) (HealFunc, error) {
	var (
		heal HealFunc
		err  error
	)
	switch f.Name {
	case "as-mismatch":
		var fn func(*sessionSettings)
		if fn, err = asMismatch(f, b.spec.Topology); err == nil {
			heal, err = b.overlaySessions(ctx, f.Peer, fn)
		}
	case "md5-mismatch", "md5-one-sided":
		pw := faultPassword(f)
		heal, err = b.overlaySessions(ctx, f.Peer, func(s *sessionSettings) { s.Password = pw })
	case "router-id-conflict":
		var id netip.Addr
		if id, err = faultRouterID(f, b.spec.Topology); err == nil {
			heal, err = b.overlay(ctx, birdOverlay{fn: func(c *bird.Config) { c.RouterID = id }})
		}
	default:
		err = ErrFaultUnsupported
	}
	if err != nil {
		return nil, fmt.Errorf("%s on BIRD node %s: %w", f.Name, f.Node, err)
	}
	return heal, nil
}

// overlaySessions implements sessionConfigurer: fn changes the node's
// protocol for peer (all BGP protocols when peer is "").
func (b *birdNode) overlaySessions(ctx context.Context, peer string, fn func(*sessionSettings)) (HealFunc, error) {
	return b.overlay(ctx, birdOverlay{fn: func(c *bird.Config) {
		for i := range c.Peers {
			p := &c.Peers[i]
			if peer != "" && p.Name != peer {
				continue
			}
			s := sessionSettings{Peer: p.Name, Address: p.Address, ASN: p.ASN, Password: p.Password}
			fn(&s)
			p.Address, p.ASN, p.Password = s.Address, s.ASN, s.Password
		}
	}})
}

// overlay applies o on top of the active faults' overlays and returns how
// to take it back. When BIRD refuses the result, the configuration before
// o is loaded again and the error returned.
func (b *birdNode) overlay(ctx context.Context, o birdOverlay) (HealFunc, error) {
	b.faults.mu.Lock()
	defer b.faults.mu.Unlock()
	o.id = b.faults.nextID
	b.faults.nextID++
	b.faults.overlays = append(b.faults.overlays, o)
	if err := b.reconfigure(ctx, b.faults.desired()); err != nil {
		b.faults.remove(o.id)
		if rerr := b.reconfigure(context.WithoutCancel(ctx), b.faults.desired()); rerr != nil {
			err = errors.Join(err, fmt.Errorf("restore: %w", rerr))
		}
		return nil, err
	}
	return func(ctx context.Context) error {
		b.faults.mu.Lock()
		defer b.faults.mu.Unlock()
		b.faults.remove(o.id)
		return b.reconfigure(ctx, b.faults.desired())
	}, nil
}

// remove drops the overlay id.
func (f *birdFaults) remove(id int) {
	f.overlays = slices.DeleteFunc(f.overlays, func(o birdOverlay) bool { return o.id == id })
}

// desired is the topology's configuration with every overlay applied.
func (f *birdFaults) desired() bird.Config {
	cfg := f.base
	cfg.Peers = slices.Clone(f.base.Peers)
	for _, o := range f.overlays {
		o.fn(&cfg)
	}
	return cfg
}
