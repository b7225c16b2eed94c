package speaker

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/osrg/gobgp/v4/pkg/apiutil"
	"github.com/osrg/gobgp/v4/pkg/packet/bgp"
)

// Announce originates routes (IPv4 and IPv6 unicast) in one GoBGP AddPath
// call, so GoBGP packs them into as few UPDATEs as it can.
func (s *Speaker) Announce(ctx context.Context, routes []Route) error {
	if err := s.ready(); err != nil {
		return fmt.Errorf("announce on %q: %w", s.cfg.Name, err)
	}
	if len(routes) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("announce on %q: %w", s.cfg.Name, err)
	}
	now := time.Now().Unix()
	paths := make([]*apiutil.Path, 0, len(routes))
	for i, r := range routes {
		p, err := s.announcePath(r, now)
		if err != nil {
			return fmt.Errorf("announce on %q: routes[%d] %v: %w", s.cfg.Name, i, r.Prefix, err)
		}
		paths = append(paths, p)
	}
	if _, err := s.bgp.AddPath(apiutil.AddPathRequest{Paths: paths}); err != nil {
		return fmt.Errorf("announce %d routes on %q: %w", len(paths), s.cfg.Name, err)
	}
	return nil
}

// Withdraw removes routes this speaker announced, by prefix, in one GoBGP
// DeletePath call.
func (s *Speaker) Withdraw(ctx context.Context, prefixes []netip.Prefix) error {
	if err := s.ready(); err != nil {
		return fmt.Errorf("withdraw on %q: %w", s.cfg.Name, err)
	}
	if len(prefixes) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("withdraw on %q: %w", s.cfg.Name, err)
	}
	now := time.Now().Unix()
	paths := make([]*apiutil.Path, 0, len(prefixes))
	for i, pfx := range prefixes {
		fam, nlri, err := prefixNLRI(pfx)
		if err != nil {
			return fmt.Errorf("withdraw on %q: prefixes[%d] %v: %w", s.cfg.Name, i, pfx, err)
		}
		paths = append(paths, &apiutil.Path{
			Family:     fam,
			Nlri:       nlri,
			Age:        now,
			Withdrawal: true,
			Attrs:      []bgp.PathAttributeInterface{bgp.NewPathAttributeOrigin(bgp.BGP_ORIGIN_ATTR_TYPE_IGP)},
		})
	}
	if err := s.bgp.DeletePath(apiutil.DeletePathRequest{Paths: paths}); err != nil {
		return fmt.Errorf("withdraw %d prefixes on %q: %w", len(paths), s.cfg.Name, err)
	}
	return nil
}

// prefixNLRI returns the family and NLRI of a unicast prefix.
func prefixNLRI(pfx netip.Prefix) (bgp.Family, bgp.NLRI, error) {
	if !pfx.IsValid() {
		return 0, nil, errors.New("invalid prefix")
	}
	pfx = pfx.Masked()
	if pfx.Addr().Is4In6() {
		return 0, nil, errors.New("IPv4-mapped IPv6 prefixes are not supported")
	}
	fam := bgp.RF_IPv6_UC
	if pfx.Addr().Is4() {
		fam = bgp.RF_IPv4_UC
	}
	nlri, err := bgp.NewIPAddrPrefix(pfx)
	if err != nil {
		return 0, nil, err
	}
	return fam, nlri, nil
}

// announcePath builds the GoBGP path of one route: ORIGIN IGP, an AS_PATH
// that is empty (GoBGP adds the own AS towards eBGP peers) or holds Prepend
// copies of the own AS followed by ASPath, NEXT_HOP (IPv4 with an IPv4 next hop) or
// MP_REACH_NLRI, and the optional COMMUNITIES, MED and LOCAL_PREF.
func (s *Speaker) announcePath(r Route, now int64) (*apiutil.Path, error) {
	fam, nlri, err := prefixNLRI(r.Prefix)
	if err != nil {
		return nil, err
	}
	if r.Prepend < 0 || r.Prepend > 255 {
		return nil, fmt.Errorf("prepend: %d is out of range 0-255", r.Prepend)
	}
	nh := r.NextHop
	if !nh.IsValid() {
		nh = s.defaultNextHop(fam)
	}
	if !nh.IsValid() {
		return nil, errors.New("next hop: none given and the speaker has no address to default to")
	}
	attrs := []bgp.PathAttributeInterface{bgp.NewPathAttributeOrigin(bgp.BGP_ORIGIN_ATTR_TYPE_IGP)}
	var segs []bgp.AsPathParamInterface
	if n := r.Prepend + len(r.ASPath); n > 0 {
		as := make([]uint32, r.Prepend, n)
		for i := range as {
			as[i] = s.cfg.ASN
		}
		as = append(as, r.ASPath...)
		segs = append(segs, bgp.NewAs4PathParam(bgp.BGP_ASPATH_ATTR_TYPE_SEQ, as))
	}
	attrs = append(attrs, bgp.NewPathAttributeAsPath(segs))
	if fam == bgp.RF_IPv4_UC && nh.Is4() {
		a, err := bgp.NewPathAttributeNextHop(nh)
		if err != nil {
			return nil, fmt.Errorf("next hop %v: %w", nh, err)
		}
		attrs = append(attrs, a)
	} else {
		a, err := bgp.NewPathAttributeMpReachNLRI(fam, []bgp.PathNLRI{{NLRI: nlri}}, nh)
		if err != nil {
			return nil, fmt.Errorf("next hop %v: %w", nh, err)
		}
		attrs = append(attrs, a)
	}
	if len(r.Communities) > 0 {
		comms := make([]uint32, 0, len(r.Communities))
		for _, c := range r.Communities {
			v, err := ParseCommunity(c)
			if err != nil {
				return nil, err
			}
			comms = append(comms, v)
		}
		attrs = append(attrs, bgp.NewPathAttributeCommunities(comms))
	}
	if r.MED != 0 {
		attrs = append(attrs, bgp.NewPathAttributeMultiExitDisc(r.MED))
	}
	if r.LocalPref != 0 {
		attrs = append(attrs, bgp.NewPathAttributeLocalPref(r.LocalPref))
	}
	return &apiutil.Path{Family: fam, Nlri: nlri, Age: now, Attrs: attrs}, nil
}

// defaultNextHop is the listen address for IPv4 routes and its IPv4-mapped
// IPv6 form for IPv6 routes (an IPv6 listen address is used as is); the
// router id stands in when there is no listen address of the right kind.
func (s *Speaker) defaultNextHop(fam bgp.Family) netip.Addr {
	la := s.cfg.ListenAddress
	if fam == bgp.RF_IPv6_UC {
		switch {
		case la.Is6() && !la.Is4In6():
			return la
		case la.Is4():
			return netip.AddrFrom16(la.As16())
		}
		return netip.AddrFrom16(s.cfg.RouterID.As16())
	}
	if la.Is4() {
		return la
	}
	return s.cfg.RouterID
}

// ParseCommunity parses a standard community in "ASN:VALUE" form, each
// part 0-65535.
func ParseCommunity(c string) (uint32, error) {
	hi, lo, ok := strings.Cut(c, ":")
	if !ok {
		return 0, fmt.Errorf("community %q: want ASN:VALUE", c)
	}
	a, err := strconv.ParseUint(hi, 10, 16)
	if err != nil {
		return 0, fmt.Errorf("community %q: asn part: %w", c, err)
	}
	v, err := strconv.ParseUint(lo, 10, 16)
	if err != nil {
		return 0, fmt.Errorf("community %q: value part: %w", c, err)
	}
	return uint32(a)<<16 | uint32(v), nil
}

// FormatCommunity renders a standard community as "ASN:VALUE".
func FormatCommunity(v uint32) string {
	return strconv.FormatUint(uint64(v>>16), 10) + ":" + strconv.FormatUint(uint64(v&0xffff), 10)
}
