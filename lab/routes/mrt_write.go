package routes

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/osrg/gobgp/v4/pkg/packet/bgp"
	"github.com/osrg/gobgp/v4/pkg/packet/mrt"

	"github.com/peerlab/peerlab/speaker"
)

// MRTPeer is the one peer a written dump says its routes came from.
type MRTPeer struct {
	// RouterID is the BGP identifier of the collector and the peer.
	RouterID netip.Addr
	// Address is the peer's address.
	Address netip.Addr
	// ASN is the peer's AS number; it leads every route's AS path.
	ASN uint32
	// Time stamps every record (zero: the Unix epoch, for reproducible
	// files).
	Time time.Time
}

// WriteMRT writes routes as a TABLE_DUMP_V2 dump: a PEER_INDEX_TABLE with
// peer, then one RIB_IPV4_UNICAST record per route whose single entry
// carries ORIGIN IGP, AS_PATH (peer.ASN then the route's ASPath),
// NEXT_HOP (the route's, else the peer's address), and the route's MED,
// LOCAL_PREF and COMMUNITIES when set. Only IPv4 routes can be written.
func WriteMRT(w io.Writer, routes []speaker.Route, peer MRTPeer) error {
	if !peer.RouterID.Is4() || !peer.Address.Is4() {
		return errors.New("write MRT: the peer needs IPv4 router id and address")
	}
	ts := peer.Time
	if ts.IsZero() {
		ts = time.Unix(0, 0)
	}
	pit := mrt.NewPeerIndexTable(peer.RouterID, "peerlab", []*mrt.Peer{mrt.NewPeer(peer.RouterID, peer.Address, peer.ASN, true)})
	if err := writeRecord(w, ts, mrt.PEER_INDEX_TABLE, pit); err != nil {
		return fmt.Errorf("write MRT peer index: %w", err)
	}
	for i, r := range routes {
		rib, err := ribRecord(uint32(i), r, peer, uint32(ts.Unix()))
		if err != nil {
			return fmt.Errorf("write MRT routes[%d] %v: %w", i, r.Prefix, err)
		}
		if err := writeRecord(w, ts, mrt.RIB_IPV4_UNICAST, rib); err != nil {
			return fmt.Errorf("write MRT routes[%d] %v: %w", i, r.Prefix, err)
		}
	}
	return nil
}

// ribRecord is the RIB_IPV4_UNICAST body of one route.
func ribRecord(seq uint32, r speaker.Route, peer MRTPeer, ts uint32) (*mrt.Rib, error) {
	if !r.Prefix.Addr().Is4() {
		return nil, errors.New("only IPv4 routes can be written")
	}
	nlri, err := bgp.NewIPAddrPrefix(r.Prefix.Masked())
	if err != nil {
		return nil, err
	}
	nh := r.NextHop
	if !nh.IsValid() {
		nh = peer.Address
	}
	nhAttr, err := bgp.NewPathAttributeNextHop(nh)
	if err != nil {
		return nil, fmt.Errorf("next hop %v: %w", nh, err)
	}
	as := append([]uint32{peer.ASN}, r.ASPath...)
	attrs := []bgp.PathAttributeInterface{
		bgp.NewPathAttributeOrigin(bgp.BGP_ORIGIN_ATTR_TYPE_IGP),
		bgp.NewPathAttributeAsPath([]bgp.AsPathParamInterface{bgp.NewAs4PathParam(bgp.BGP_ASPATH_ATTR_TYPE_SEQ, as)}),
		nhAttr,
	}
	if r.MED != 0 {
		attrs = append(attrs, bgp.NewPathAttributeMultiExitDisc(r.MED))
	}
	if r.LocalPref != 0 {
		attrs = append(attrs, bgp.NewPathAttributeLocalPref(r.LocalPref))
	}
	if len(r.Communities) > 0 {
		cs := make([]uint32, len(r.Communities))
		for i, c := range r.Communities {
			if cs[i], err = speaker.ParseCommunity(c); err != nil {
				return nil, err
			}
		}
		attrs = append(attrs, bgp.NewPathAttributeCommunities(cs))
	}
	entry := mrt.NewRibEntry(0, ts, 0, attrs, false)
	return mrt.NewRib(seq, bgp.RF_IPv4_UC, nlri, []*mrt.RibEntry{entry}), nil
}

// writeRecord writes one TABLE_DUMP_V2 record.
func writeRecord(w io.Writer, ts time.Time, st mrt.MRTSubTypeTableDumpv2, body mrt.Body) error {
	msg, err := mrt.NewMRTMessage(ts, mrt.TABLE_DUMPv2, st, body)
	if err != nil {
		return err
	}
	b, err := msg.Serialize()
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}
