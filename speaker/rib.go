package speaker

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	"github.com/osrg/gobgp/v4/api"
	"github.com/osrg/gobgp/v4/pkg/apiutil"
	"github.com/osrg/gobgp/v4/pkg/packet/bgp"
)

// RIB reads one table for one family. TableBest returns the speaker's best
// path of every destination and ignores peer; TableAdjIn and TableAdjOut
// return what peer sent, or is sent, before import and after export policy.
func (s *Speaker) RIB(ctx context.Context, t Table, peer netip.Addr, f Family) ([]Path, error) {
	if err := s.ready(); err != nil {
		return nil, fmt.Errorf("rib of %q: %w", s.cfg.Name, err)
	}
	af, err := apiFamily(f)
	if err != nil {
		return nil, fmt.Errorf("rib of %q: %w", s.cfg.Name, err)
	}
	req := apiutil.ListPathRequest{Family: apiutil.ToFamily(af)}
	switch t {
	case TableBest:
		req.TableType = api.TableType_TABLE_TYPE_GLOBAL
	case TableAdjIn, TableAdjOut:
		req.TableType = api.TableType_TABLE_TYPE_ADJ_IN
		if t == TableAdjOut {
			req.TableType = api.TableType_TABLE_TYPE_ADJ_OUT
		}
		if !s.peers.has(peer) {
			return nil, fmt.Errorf("rib of %q: peer %v: %w", s.cfg.Name, peer, ErrPeerNotFound)
		}
		req.Name = peer.String()
	default:
		return nil, fmt.Errorf("rib of %q: unknown table %d", s.cfg.Name, t)
	}
	var out []Path
	var convErr error
	err = s.bgp.ListPath(req, func(_ bgp.NLRI, paths []*apiutil.Path) {
		for _, p := range paths {
			if p.Withdrawal || (t == TableBest && !p.Best) {
				continue
			}
			cp, err := convertPath(p)
			if err != nil {
				convErr = errors.Join(convErr, err)
				continue
			}
			out = append(out, cp)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("rib of %q: %w", s.cfg.Name, err)
	}
	if convErr != nil {
		return nil, fmt.Errorf("rib of %q: %w", s.cfg.Name, convErr)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("rib of %q: %w", s.cfg.Name, err)
	}
	return out, nil
}

// convertPath turns a GoBGP path into a Path: the AS path is flattened
// (sets and confederation segments included, in order) and communities
// rendered "ASN:VALUE".
func convertPath(p *apiutil.Path) (Path, error) {
	var out Path
	switch n := p.Nlri.(type) {
	case *bgp.IPAddrPrefix:
		out.Prefix = n.Prefix
	default:
		return Path{}, fmt.Errorf("unsupported NLRI %T %v", p.Nlri, p.Nlri)
	}
	out.Best = p.Best
	if p.PeerAddress.IsValid() && !p.PeerAddress.IsUnspecified() {
		out.From = p.PeerAddress
	}
	for _, a := range p.Attrs {
		switch v := a.(type) {
		case *bgp.PathAttributeNextHop:
			out.NextHop = v.Value
		case *bgp.PathAttributeMpReachNLRI:
			out.NextHop = v.Nexthop
		case *bgp.PathAttributeAsPath:
			for _, seg := range v.Value {
				out.ASPath = append(out.ASPath, seg.GetAS()...)
			}
		case *bgp.PathAttributeCommunities:
			for _, c := range v.Value {
				out.Communities = append(out.Communities, FormatCommunity(c))
			}
		case *bgp.PathAttributeLocalPref:
			out.LocalPref = v.Value
		case *bgp.PathAttributeMultiExitDisc:
			out.MED = v.Value
		case *bgp.PathAttributeOriginatorId:
			out.OriginatorID = v.Value
		case *bgp.PathAttributeClusterList:
			out.ClusterList = append([]netip.Addr(nil), v.Value...)
		}
	}
	return out, nil
}
