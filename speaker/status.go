package speaker

import (
	"context"
	"fmt"
	"net/netip"
	"slices"

	"github.com/osrg/gobgp/v4/api"
)

// Peers returns the status of every configured neighbor, sorted by
// address. State comes from GoBGP; LastError, Notification and Since from
// the events the speaker has tracked.
func (s *Speaker) Peers(ctx context.Context) ([]PeerStatus, error) {
	if err := s.ready(); err != nil {
		return nil, fmt.Errorf("list peers of %q: %w", s.cfg.Name, err)
	}
	out, err := s.listPeers(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("list peers of %q: %w", s.cfg.Name, err)
	}
	return out, nil
}

// Peer returns the status of one neighbor, or an error wrapping
// ErrPeerNotFound.
func (s *Speaker) Peer(ctx context.Context, addr netip.Addr) (PeerStatus, error) {
	if err := s.ready(); err != nil {
		return PeerStatus{}, fmt.Errorf("peer %v of %q: %w", addr, s.cfg.Name, err)
	}
	if !s.peers.has(addr) {
		return PeerStatus{}, fmt.Errorf("peer %v of %q: %w", addr, s.cfg.Name, ErrPeerNotFound)
	}
	out, err := s.listPeers(ctx, addr.String())
	if err != nil {
		return PeerStatus{}, fmt.Errorf("peer %v of %q: %w", addr, s.cfg.Name, err)
	}
	for _, p := range out {
		if p.Address == addr {
			return p, nil
		}
	}
	return PeerStatus{}, fmt.Errorf("peer %v of %q: %w", addr, s.cfg.Name, ErrPeerNotFound)
}

// listPeers asks GoBGP for its neighbors ("" for all) and merges them with
// the tracked state.
func (s *Speaker) listPeers(ctx context.Context, address string) ([]PeerStatus, error) {
	var out []PeerStatus
	var perr error
	err := s.bgp.ListPeer(ctx, &api.ListPeerRequest{Address: address}, func(p *api.Peer) {
		if p.Conf == nil {
			return
		}
		addr, err := netip.ParseAddr(p.Conf.NeighborAddress)
		if err != nil {
			perr = fmt.Errorf("gobgp neighbor address %q: %w", p.Conf.NeighborAddress, err)
			return
		}
		st := PeerStatus{
			Speaker: s.cfg.Name,
			Address: addr,
			ASN:     p.Conf.PeerAsn,
			State:   StateUnknown,
		}
		if p.State != nil {
			st.State = stateFromAPI(p.State.SessionState)
		}
		if t, ok := s.peers.snapshot(addr); ok {
			st.Peer = t.name
			st.LastError = t.lastError
			st.Since = t.since
			if t.notification != nil {
				n := *t.notification
				st.Notification = &n
			}
		}
		out = append(out, st)
	})
	if err != nil {
		return nil, err
	}
	if perr != nil {
		return nil, perr
	}
	slices.SortFunc(out, func(a, b PeerStatus) int { return a.Address.Compare(b.Address) })
	return out, nil
}
