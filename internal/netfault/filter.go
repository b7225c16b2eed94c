package netfault

import (
	"context"
	"fmt"
	"sync"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"go.uber.org/zap"
)

// filterFault is a fault made of two inet filter chains, on the input and
// output hooks, that apply one verdict to BGP packets: TCP from or to the
// BGP port, to or from the peer when the target names one. It is what
// tcp179-drop, tcp179-reject and icmp-unreachable have in common.
type filterFault struct {
	name string
	// match, when not nil, narrows every rule further.
	match func() []expr.Any
	// verdict ends every rule.
	verdict func() []expr.Any
	mu      sync.Mutex // serialises Inject and Heal of this instance
}

// Name implements Fault.
func (f *filterFault) Name() string { return f.name }

// chains returns the chains f adds for t.
//
// Input (packets to the node): from the peer, TCP with destination port
// the BGP port (the peer connecting to the node's listener) or source port
// the BGP port (the peer's listener answering the node). Output mirrors
// it with the peer as destination.
func (f *filterFault) chains(t Target) []chainSpec {
	port := t.port()
	var fromPeer, toPeer []expr.Any
	if t.Peer.IsValid() {
		fromPeer, toPeer = addrIs(src, t.Peer, true), addrIs(dst, t.Peer, true)
	}
	rule := func(peer []expr.Any, d direction) []expr.Any {
		var extra []expr.Any
		if f.match != nil {
			extra = f.match()
		}
		return concat(peer, isTCP(), portIs(d, port), extra, []expr.Any{&expr.Counter{}}, f.verdict())
	}
	return []chainSpec{
		{
			family: nftables.TableFamilyINet, name: chainName(f.name, "input"),
			typ: nftables.ChainTypeFilter, hook: nftables.ChainHookInput, prio: nftables.ChainPriorityFilter,
			rules: [][]expr.Any{rule(fromPeer, dst), rule(fromPeer, src)},
		},
		{
			family: nftables.TableFamilyINet, name: chainName(f.name, "output"),
			typ: nftables.ChainTypeFilter, hook: nftables.ChainHookOutput, prio: nftables.ChainPriorityFilter,
			rules: [][]expr.Any{rule(toPeer, dst), rule(toPeer, src)},
		},
	}
}

// keys returns the chains f owns.
func (f *filterFault) keys() []chainKey {
	return []chainKey{
		{nftables.TableFamilyINet, chainName(f.name, "input")},
		{nftables.TableFamilyINet, chainName(f.name, "output")},
	}
}

// Inject implements Fault.
func (f *filterFault) Inject(ctx context.Context, t Target) error {
	return injectNFT(ctx, &f.mu, f.name, t, f.chains)
}

// Heal implements Fault.
func (f *filterFault) Heal(ctx context.Context, t Target) error {
	return healNFT(ctx, &f.mu, f.name, t, f.keys())
}

// injectNFT validates t and installs the chains build returns for it.
func injectNFT(ctx context.Context, mu *sync.Mutex, name string, t Target, build func(Target) []chainSpec) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("inject %s: %w", describe(name, t), err)
	}
	if err := t.validate(); err != nil {
		return fmt.Errorf("inject %s: %w", name, err)
	}
	mu.Lock()
	defer mu.Unlock()
	conn, err := openNFT(t.NSPath)
	if err != nil {
		return fmt.Errorf("inject %s: %w", describe(name, t), err)
	}
	defer conn.CloseLasting()
	if err := installChains(conn, name, build(t)); err != nil {
		return fmt.Errorf("inject %s: %w", describe(name, t), err)
	}
	t.logger(name).Info("fault injected", zap.Uint16("port", t.port()), zap.Stringer("peer", t.Peer))
	return nil
}

// healNFT removes the chains named by keys from t's namespace.
func healNFT(ctx context.Context, mu *sync.Mutex, name string, t Target, keys []chainKey) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("heal %s: %w", describe(name, t), err)
	}
	if err := t.validate(); err != nil {
		return fmt.Errorf("heal %s: %w", name, err)
	}
	mu.Lock()
	defer mu.Unlock()
	conn, err := openNFT(t.NSPath)
	if err != nil {
		return fmt.Errorf("heal %s: %w", describe(name, t), err)
	}
	defer conn.CloseLasting()
	removed, err := removeChains(conn, keys)
	if err != nil {
		return fmt.Errorf("heal %s: %w", describe(name, t), err)
	}
	if removed {
		t.logger(name).Info("fault healed")
	}
	return nil
}
