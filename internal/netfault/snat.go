package netfault

import (
	"context"
	"fmt"
	"sync"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// NameSNATNodeTraffic is the registry name of the fault made by
// [NewSNATNodeTraffic].
const NameSNATNodeTraffic = "snat-node-traffic"

// snatFault translates the source of node-to-node BGP connections.
type snatFault struct {
	mu sync.Mutex // serialises Inject and Heal of this instance
}

// NewSNATNodeTraffic returns the snat-node-traffic fault: new BGP
// connections the node opens (TCP to the BGP port, from [Target.Addr] when
// given, to [Target.Peer] when given) leave with source address
// [Target.SNATAddr], through a nat postrouting chain in the ip (or ip6)
// peerlab table. The peer sees a connection from an address it has no
// session for. Only connections opened after Inject are translated (NAT
// acts on the first packet of a connection), and connections the peer
// opens to the node are not: their replies belong to the peer's
// connection.
func NewSNATNodeTraffic() Fault { return &snatFault{} }

// Name implements Fault.
func (f *snatFault) Name() string { return NameSNATNodeTraffic }

// check refuses a target without a usable SNAT address.
func (f *snatFault) check(t Target) error {
	if !t.SNATAddr.IsValid() {
		return fmt.Errorf("%w: node %q: %s needs snat_addr", ErrInvalidTarget, t.Node, NameSNATNodeTraffic)
	}
	for _, a := range []struct {
		field string
		valid bool
		is4   bool
	}{{"addr", t.Addr.IsValid(), t.Addr.Is4()}, {"peer", t.Peer.IsValid(), t.Peer.Is4()}} {
		if a.valid && a.is4 != t.SNATAddr.Is4() {
			return fmt.Errorf("%w: node %q: %s: snat_addr %v and %s are of different families", ErrInvalidTarget, t.Node, NameSNATNodeTraffic, t.SNATAddr, a.field)
		}
	}
	return nil
}

// family returns the table family for t's SNAT address.
func snatFamily(t Target) (nftables.TableFamily, uint32) {
	if t.SNATAddr.Is4() {
		return nftables.TableFamilyIPv4, unix.NFPROTO_IPV4
	}
	return nftables.TableFamilyIPv6, unix.NFPROTO_IPV6
}

// chains returns the nat chain for t.
func (f *snatFault) chains(t Target) []chainSpec {
	fam, proto := snatFamily(t)
	var match []expr.Any
	if t.Addr.IsValid() {
		match = append(match, addrIs(src, t.Addr, false)...)
	}
	if t.Peer.IsValid() {
		match = append(match, addrIs(dst, t.Peer, false)...)
	}
	rule := concat(match, isTCP(), portIs(dst, t.port()), []expr.Any{
		&expr.Counter{},
		&expr.Immediate{Register: 1, Data: t.SNATAddr.AsSlice()},
		&expr.NAT{Type: expr.NATTypeSourceNAT, Family: proto, RegAddrMin: 1},
	})
	return []chainSpec{{
		family: fam, name: chainName(NameSNATNodeTraffic, "postrouting"),
		typ: nftables.ChainTypeNAT, hook: nftables.ChainHookPostrouting, prio: nftables.ChainPriorityNATSource,
		rules: [][]expr.Any{rule},
	}}
}

// Inject implements Fault.
func (f *snatFault) Inject(ctx context.Context, t Target) error {
	if err := f.check(t); err != nil {
		return fmt.Errorf("inject %s: %w", NameSNATNodeTraffic, err)
	}
	return injectNFT(ctx, &f.mu, NameSNATNodeTraffic, t, f.chains)
}

// Heal implements Fault. It removes the chain from both the ip and the ip6
// table, so it needs no SNAT address.
func (f *snatFault) Heal(ctx context.Context, t Target) error {
	name := chainName(NameSNATNodeTraffic, "postrouting")
	return healNFT(ctx, &f.mu, NameSNATNodeTraffic, t, []chainKey{
		{nftables.TableFamilyIPv4, name},
		{nftables.TableFamilyIPv6, name},
	})
}
