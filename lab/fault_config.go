package lab

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"

	"github.com/peerlab/peerlab/lab/topology"
)

// Config faults change what a node is configured with while they are
// active: as-mismatch (the AS a node is told its peer has), router-id-
// conflict, md5-mismatch and md5-one-sided (TCP MD5 passwords) and
// wrong-ip-autodetect (fault_wrongip.go). Each node kind applies them as
// overlays on the topology's settings (kind_bird_faults_config.go,
// kind_gobgp_faults.go): healing removes one overlay and leaves the others,
// so faults on different sessions of a node can come and go independently.

// sessionSettings are the settings of one end of a session that config
// faults change, whatever the node's kind.
type sessionSettings struct {
	// Peer is the peer node's name; faults read it, never change it.
	Peer string
	// Address is the address the node peers with.
	Address netip.Addr
	// ASN is the AS number the node expects the peer to have.
	ASN uint32
	// Password is the TCP MD5 password, "" for none.
	Password string
}

// sessionConfigurer is implemented by nodes whose session settings a fault
// can change: fn is applied to the settings of the session with peer (every
// session when peer is ""), and the returned HealFunc takes the change back.
type sessionConfigurer interface {
	overlaySessions(ctx context.Context, peer string, fn func(*sessionSettings)) (HealFunc, error)
}

// peerSidePassword is the password md5-mismatch gives the peer's end of a
// session that had none (or had the node's fault password), so that both
// ends have one and they differ.
const peerSidePassword = "peerlab-peer"

// faultPassword is params.password, or the loader's default.
func faultPassword(f *topology.Fault) string {
	if p := f.Params["password"]; p != "" {
		return p
	}
	return topology.DefaultFaultPassword
}

// otherPassword is a password different from pw, for the peer's end.
func otherPassword(pw string) string {
	if pw == peerSidePassword {
		return peerSidePassword + "-2"
	}
	return peerSidePassword
}

// faultASN is the AS as-mismatch tells the node peer has: params.asn, else
// the peer's real AS plus one (minus one at the top of the range).
func faultASN(f *topology.Fault, topo *topology.Topology, peer string) (uint32, error) {
	if s := f.Params["asn"]; s != "" {
		n, err := strconv.ParseUint(s, 10, 32)
		if err != nil || n == 0 {
			return 0, fmt.Errorf("params.asn %q is not an AS number", s)
		}
		return uint32(n), nil
	}
	p := topo.Node(peer)
	if p == nil {
		return 0, fmt.Errorf("no node %s in the topology", peer)
	}
	if p.ASN == math.MaxUint32 {
		return p.ASN - 1, nil
	}
	return p.ASN + 1, nil
}

// faultRouterID is params.router-id, else the peer's router id.
func faultRouterID(f *topology.Fault, topo *topology.Topology) (netip.Addr, error) {
	if s := f.Params["router-id"]; s != "" {
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is4() {
			return netip.Addr{}, fmt.Errorf("params.router-id %q is not an IPv4 address", s)
		}
		return a, nil
	}
	if p := topo.Node(f.Peer); f.Peer != "" && p != nil && p.RouterID.Is4() {
		return p.RouterID, nil
	}
	return netip.Addr{}, errors.New("router-id-conflict needs a peer or params.router-id")
}

// asMismatch is the overlay of as-mismatch: every session it touches
// expects the wrong AS of its peer.
func asMismatch(f *topology.Fault, topo *topology.Topology) (func(*sessionSettings), error) {
	if f.Params["asn"] != "" {
		asn, err := faultASN(f, topo, "")
		if err != nil {
			return nil, err
		}
		return func(s *sessionSettings) { s.ASN = asn }, nil
	}
	return func(s *sessionSettings) {
		if asn, err := faultASN(f, topo, s.Peer); err == nil {
			s.ASN = asn
		}
	}, nil
}

// md5Fault is md5-mismatch (oneSided false) and md5-one-sided as a
// lab-level fault: the node's end of each session gets params.password
// (through the node's FaultInjector), and the peer's end is made to fit
// the fault — for md5-mismatch a password that differs from the node's
// (the topology's, when it has one that differs, else peerSidePassword),
// for md5-one-sided none at all.
type md5Fault struct{ oneSided bool }

// Inject implements FaultKind.
func (k md5Fault) Inject(ctx context.Context, l *Lab, f *topology.Fault) (_ HealFunc, err error) {
	fi, ok := l.nodes[f.Node].(FaultInjector)
	if !ok {
		return nil, fmt.Errorf("node %s (kind %s): %w", f.Node, l.topo.Node(f.Node).Kind, ErrFaultUnsupported)
	}
	pw := faultPassword(f)
	var heals healStack
	defer func() {
		if err != nil {
			_ = heals.heal(context.WithoutCancel(ctx))
		}
	}()
	for _, s := range sessionsOf(l.topo, f.Node) {
		peer := s.Other(f.Node)
		if f.Peer != "" && peer != f.Peer {
			continue
		}
		want, change := k.peerPassword(s.Password, pw)
		if !change {
			continue
		}
		sc, ok := l.nodes[peer].(sessionConfigurer)
		if !ok {
			return nil, fmt.Errorf("peer %s (kind %s): %w", peer, l.topo.Node(peer).Kind, ErrFaultUnsupported)
		}
		h, err := sc.overlaySessions(ctx, f.Node, func(ss *sessionSettings) { ss.Password = want })
		if err != nil {
			return nil, fmt.Errorf("password of %s for %s: %w", peer, f.Node, err)
		}
		heals.push(h)
	}
	h, err := fi.InjectFault(ctx, f)
	if err != nil {
		return nil, err
	}
	heals.push(h)
	return heals.heal, nil
}

// peerPassword is what the peer's end of a session whose topology password
// is topo must use while the node uses pw, and whether that is a change.
func (k md5Fault) peerPassword(topo, pw string) (string, bool) {
	switch {
	case k.oneSided:
		return "", topo != ""
	case topo == "" || topo == pw:
		return otherPassword(pw), true
	}
	return topo, false
}

// healStack undoes a fault's steps in reverse order.
type healStack []HealFunc

// push records one step's undo.
func (h *healStack) push(fn HealFunc) { *h = append(*h, fn) }

// heal runs every undo, last first, and joins their errors.
func (h *healStack) heal(ctx context.Context) error {
	var errs []error
	for i := len(*h) - 1; i >= 0; i-- {
		if err := (*h)[i](ctx); err != nil {
			errs = append(errs, err)
		}
	}
	*h = nil
	return errors.Join(errs...)
}
