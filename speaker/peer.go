package speaker

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"time"

	"github.com/osrg/gobgp/v4/api"
	"go.uber.org/zap"
)

// idleHoldAfterReset is how long a session stays Idle after a hard reset
// before it retries: short, so labs see sessions come back quickly.
const idleHoldAfterReset = 1 // seconds

// AddPeer configures a neighbor. Its iBGP/eBGP type follows from p.ASN
// compared with the speaker's own AS.
func (s *Speaker) AddPeer(ctx context.Context, p PeerConfig) error {
	if err := s.ready(); err != nil {
		return fmt.Errorf("add peer %v to %q: %w", p.Address, s.cfg.Name, err)
	}
	ap, err := s.apiPeer(p)
	if err != nil {
		return fmt.Errorf("add peer %v to %q: %w", p.Address, s.cfg.Name, err)
	}
	if !s.peers.add(p.Address, p.Name, p.ASN, time.Now()) {
		return fmt.Errorf("add peer %v to %q: already configured", p.Address, s.cfg.Name)
	}
	if err := s.bgp.AddPeer(ctx, &api.AddPeerRequest{Peer: ap}); err != nil {
		s.peers.remove(p.Address)
		return fmt.Errorf("add peer %v to %q: %w", p.Address, s.cfg.Name, err)
	}
	s.log.Debug("peer added", zap.Stringer("peer", p.Address), zap.String("peer-name", p.Name), zap.Uint32("peer-asn", p.ASN))
	return nil
}

// apiPeer validates a PeerConfig and maps it onto GoBGP's api.Peer.
func (s *Speaker) apiPeer(p PeerConfig) (*api.Peer, error) {
	if !p.Address.IsValid() {
		return nil, errors.New("address: required")
	}
	if p.ASN == 0 {
		return nil, errors.New("asn: must not be 0")
	}
	if p.Port < 0 || p.Port > 65535 {
		return nil, fmt.Errorf("port: %d is out of range", p.Port)
	}
	timers, err := apiTimers(p.Timers)
	if err != nil {
		return nil, err
	}
	afiSafis, err := apiAfiSafis(p.Families)
	if err != nil {
		return nil, err
	}
	if err := s.checkFamilies(p.Families); err != nil {
		return nil, err
	}
	port := uint32(p.Port)
	if port == 0 {
		port = defaultBGPPort
	}
	local := p.LocalAddress
	if !local.IsValid() && s.cfg.ListenAddress.IsValid() && s.cfg.ListenAddress.Is4() == p.Address.Is4() {
		local = s.cfg.ListenAddress
	}
	ap := &api.Peer{
		Conf: &api.PeerConf{
			NeighborAddress: p.Address.String(),
			PeerAsn:         p.ASN,
			AuthPassword:    p.Password,
			Description:     p.Name,
		},
		Transport: &api.Transport{
			RemotePort:  port,
			PassiveMode: p.Passive,
		},
		Timers:   &api.Timers{Config: timers},
		AfiSafis: afiSafis,
	}
	if local.IsValid() {
		ap.Transport.LocalAddress = local.String()
	}
	if p.RouteReflectorClient {
		cluster := s.cfg.ClusterID
		if !cluster.IsValid() {
			cluster = s.cfg.RouterID
		}
		ap.RouteReflector = &api.RouteReflector{
			RouteReflectorClient:    true,
			RouteReflectorClusterId: cluster.String(),
		}
	}
	if p.Multihop > 0 {
		ap.EbgpMultihop = &api.EbgpMultihop{Enabled: true, MultihopTtl: uint32(p.Multihop)}
	}
	if p.TTLSecurity > 0 {
		ap.TtlSecurity = &api.TtlSecurity{Enabled: true, TtlMin: uint32(p.TTLSecurity)}
	}
	return ap, nil
}

// apiTimers converts Timers to GoBGP's whole seconds; zero fields keep
// GoBGP's defaults. The idle hold time after a reset is always short.
func apiTimers(t Timers) (*api.TimersConfig, error) {
	secs := func(field string, d time.Duration) (uint64, error) {
		if d < 0 {
			return 0, fmt.Errorf("timers.%s: %v is negative", field, d)
		}
		if d > 0 && d < time.Second {
			return 0, fmt.Errorf("timers.%s: %v is below GoBGP's 1s resolution", field, d)
		}
		if d > math.MaxUint16*time.Second {
			return 0, fmt.Errorf("timers.%s: %v is too long", field, d)
		}
		return uint64(d / time.Second), nil
	}
	hold, err := secs("hold", t.Hold)
	if err != nil {
		return nil, err
	}
	keep, err := secs("keepalive", t.Keepalive)
	if err != nil {
		return nil, err
	}
	retry, err := secs("connect-retry", t.ConnectRetry)
	if err != nil {
		return nil, err
	}
	if hold > 0 && hold < 3 {
		return nil, fmt.Errorf("timers.hold: %v must be 0 or at least 3s (RFC 4271)", t.Hold)
	}
	return &api.TimersConfig{
		HoldTime:               hold,
		KeepaliveInterval:      keep,
		ConnectRetry:           retry,
		IdleHoldTimeAfterReset: idleHoldAfterReset,
	}, nil
}

// apiAfiSafis enables the given families; none means IPv4 unicast.
func apiAfiSafis(fams []Family) ([]*api.AfiSafi, error) {
	if len(fams) == 0 {
		fams = []Family{IPv4Unicast}
	}
	out := make([]*api.AfiSafi, 0, len(fams))
	seen := make(map[Family]bool, len(fams))
	for _, f := range fams {
		if seen[f] {
			continue
		}
		seen[f] = true
		af, err := apiFamily(f)
		if err != nil {
			return nil, err
		}
		out = append(out, &api.AfiSafi{Config: &api.AfiSafiConfig{Family: af, Enabled: true}})
	}
	return out, nil
}

// apiFamily maps a Family onto GoBGP's.
func apiFamily(f Family) (*api.Family, error) {
	switch f {
	case IPv4Unicast:
		return &api.Family{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_UNICAST}, nil
	case IPv6Unicast:
		return &api.Family{Afi: api.Family_AFI_IP6, Safi: api.Family_SAFI_UNICAST}, nil
	}
	return nil, fmt.Errorf("families: %q is not supported (want %q or %q)", f, IPv4Unicast, IPv6Unicast)
}

// DeletePeer removes a neighbor, sending it a Cease / Peer De-configured
// NOTIFICATION when the session is up.
func (s *Speaker) DeletePeer(ctx context.Context, addr netip.Addr) error {
	if err := s.ready(); err != nil {
		return fmt.Errorf("delete peer %v from %q: %w", addr, s.cfg.Name, err)
	}
	if !s.peers.has(addr) {
		return fmt.Errorf("delete peer %v from %q: %w", addr, s.cfg.Name, ErrPeerNotFound)
	}
	if err := s.bgp.DeletePeer(ctx, &api.DeletePeerRequest{Address: addr.String()}); err != nil {
		return fmt.Errorf("delete peer %v from %q: %w", addr, s.cfg.Name, err)
	}
	s.peers.remove(addr)
	return nil
}

// ResetPeer hard-resets a session: it sends Cease / Administrative Reset
// and lets the session come back after the short idle hold time.
func (s *Speaker) ResetPeer(ctx context.Context, addr netip.Addr) error {
	if err := s.ready(); err != nil {
		return fmt.Errorf("reset peer %v on %q: %w", addr, s.cfg.Name, err)
	}
	if !s.peers.has(addr) {
		return fmt.Errorf("reset peer %v on %q: %w", addr, s.cfg.Name, ErrPeerNotFound)
	}
	if err := s.bgp.ResetPeer(ctx, &api.ResetPeerRequest{Address: addr.String()}); err != nil {
		return fmt.Errorf("reset peer %v on %q: %w", addr, s.cfg.Name, err)
	}
	return nil
}

// checkFamilies refuses peer families the speaker keeps no RIB for.
func (s *Speaker) checkFamilies(fams []Family) error {
	have := s.cfg.Families
	if len(have) == 0 {
		have = []Family{IPv4Unicast}
	}
	for _, f := range fams {
		if !slices.Contains(have, f) {
			return fmt.Errorf("families: %q is not among the speaker's families %v", f, have)
		}
	}
	return nil
}
