package capture

import (
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/osrg/gobgp/v4/pkg/packet/bgp"
)

// scenario is a synthetic capture committed under testdata/ with the
// event kinds its decoded timeline must show, in order.
type scenario struct {
	file  string
	ng    bool
	build func(b *pcapBuilder)
	kinds []Kind
}

const (
	peerA = "10.0.0.1"
	peerB = "10.0.0.2"
)

var scenarios = []scenario{
	{
		file: "clean-session.pcapng", ng: true,
		build: func(b *pcapBuilder) {
			c := b.conn(peerA+":40001", peerB+":179")
			c.handshake()
			c.send(true, openMsg(b.tb, 65001, 90, "1.1.1.1"))
			c.send(false, openMsg(b.tb, 65002, 60, "2.2.2.2"))
			c.send(true, keepaliveMsg(b.tb))
			c.send(false, keepaliveMsg(b.tb))
			c.send(false, updateMsg(b.tb, peerB, []uint32{65002, 65100}, []uint32{65002<<16 | 100, 0xFFFFFF01},
				"192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/25", "203.0.113.128/25"),
				mustSerialize(b.tb, bgp.NewBGPUpdateMessage(nil, nil, nil)))
			b.wait(20 * time.Second)
			c.send(true, keepaliveMsg(b.tb))
			c.send(false, keepaliveMsg(b.tb))
			b.wait(5 * time.Second)
			c.send(true, notificationMsg(b.tb, 6, 2, shutdownData("maintenance <ticket 42>")))
			c.seg(true, segFlags{fin: true, ack: true}, nil)
			c.seg(false, segFlags{fin: true, ack: true}, nil)
			c.seg(true, segFlags{ack: true}, nil)
		},
		kinds: []Kind{KindSYN, KindSYNACK, KindOpen, KindOpen, KindKeepalive, KindKeepalive, KindUpdate, KindUpdate,
			KindKeepalive, KindKeepalive, KindNotification, KindFIN, KindFIN},
	},
	{
		file: "as-mismatch.pcap",
		build: func(b *pcapBuilder) {
			c := b.conn(peerA+":40002", peerB+":179")
			c.handshake()
			c.send(true, openMsg(b.tb, 65009, 90, "1.1.1.1"))
			c.send(false, openMsg(b.tb, 65002, 90, "2.2.2.2"), notificationMsg(b.tb, 2, 2, []byte{0xfd, 0xf1}))
			c.seg(false, segFlags{fin: true, ack: true}, nil)
			c.seg(true, segFlags{fin: true, ack: true}, nil)
		},
		kinds: []Kind{KindSYN, KindSYNACK, KindOpen, KindOpen, KindNotification, KindFIN, KindFIN},
	},
	{
		file: "syn-no-answer.pcap",
		build: func(b *pcapBuilder) {
			c := b.conn(peerA+":40003", peerB+":179")
			for _, d := range []time.Duration{time.Second, 2 * time.Second, 0} {
				c.seg(true, segFlags{syn: true}, nil)
				c.cseq-- // a retransmission reuses the sequence number
				b.wait(d)
			}
			c2 := b.conn(peerA+":40004", peerB+":179")
			c2.cseq = 7000
			c2.seg(true, segFlags{syn: true}, nil)
		},
		kinds: []Kind{KindSYN, KindSYNRetransmit, KindSYNRetransmit, KindSYN},
	},
	{
		file: "rst.pcap",
		build: func(b *pcapBuilder) {
			c := b.conn(peerA+":40005", peerB+":179")
			c.seg(true, segFlags{syn: true}, nil)
			c.seg(false, segFlags{rst: true, ack: true}, nil)
		},
		kinds: []Kind{KindSYN, KindRST},
	},
	{
		file: "md5-no-synack.pcap",
		build: func(b *pcapBuilder) {
			c := b.conn(peerA+":40006", peerB+":179")
			c.md5 = true
			c.seg(true, segFlags{syn: true}, nil)
			c.cseq--
			b.wait(time.Second)
			c.seg(true, segFlags{syn: true}, nil)
		},
		kinds: []Kind{KindSYN, KindTCPMD5, KindSYNRetransmit},
	},
	{
		file: "hold-expiry.pcap",
		build: func(b *pcapBuilder) {
			c := b.conn(peerA+":40007", peerB+":179")
			c.handshake()
			c.send(true, openMsg(b.tb, 65001, 90, "1.1.1.1"))
			c.send(false, openMsg(b.tb, 65002, 90, "2.2.2.2"))
			c.send(true, keepaliveMsg(b.tb))
			c.send(false, keepaliveMsg(b.tb))
			for range 3 { // peerA falls silent; peerB keeps sending
				b.wait(30 * time.Second)
				c.send(false, keepaliveMsg(b.tb))
			}
			b.wait(time.Second)
			c.send(false, notificationMsg(b.tb, 4, 0, nil))
		},
		kinds: []Kind{KindSYN, KindSYNACK, KindOpen, KindOpen, KindKeepalive, KindKeepalive,
			KindKeepalive, KindKeepalive, KindGap, KindKeepalive, KindNotification},
	},
	{
		file: "icmp-prohibited.pcap",
		build: func(b *pcapBuilder) {
			c := b.conn(peerA+":40008", peerB+":179")
			c.seg(true, segFlags{syn: true}, nil)
			c.icmpUnreachable("10.0.0.254", 13)
		},
		kinds: []Kind{KindSYN, KindICMPUnreachable},
	},
	{
		file: "ipv6-mp.pcapng", ng: true,
		build: func(b *pcapBuilder) {
			c := b.conn("[2001:db8::1]:40009", "[2001:db8::2]:179")
			c.handshake()
			c.send(true, openMsg(b.tb, 4200000001, 90, "1.1.1.1"))
			c.send(false, openMsg(b.tb, 65002, 90, "2.2.2.2"))
			c.send(true, keepaliveMsg(b.tb))
			c.send(false, keepaliveMsg(b.tb))
			c.send(true, mpUpdate(b, "2001:db8::1", []string{"2001:db8:1::/48", "2001:db8:2::/48"}, []string{"2001:db8:9::/48"}))
			c.send(false, mustSerialize(b.tb, bgp.NewBGPRouteRefreshMessage(bgp.AFI_IP6, 0, bgp.SAFI_UNICAST)))
		},
		kinds: []Kind{KindSYN, KindSYNACK, KindOpen, KindOpen, KindKeepalive, KindKeepalive, KindUpdate, KindRouteRefresh},
	},
	{
		file: "table-transfer.pcap",
		build: func(b *pcapBuilder) {
			c := b.conn(peerA+":40012", peerB+":179")
			c.handshake()
			c.send(true, openMsg(b.tb, 65001, 90, "1.1.1.1"))
			c.send(false, openMsg(b.tb, 65002, 90, "2.2.2.2"))
			c.send(true, keepaliveMsg(b.tb))
			c.send(false, keepaliveMsg(b.tb))
			var table []byte
			for i := range 30 {
				table = append(table, updateMsg(b.tb, peerB, []uint32{65002, 65100 + uint32(i%3)}, nil, fmt.Sprintf("10.2.%d.0/24", i))...)
			}
			table = append(table, mustSerialize(b.tb, bgp.NewBGPUpdateMessage(nil, nil, nil))...)
			c.stream(false, 200, table)
			b.wait(time.Second)
			c.send(true, keepaliveMsg(b.tb))
		},
		// The server's run of one KEEPALIVE and 30 UPDATEs keeps its first
		// and last DefaultSample messages around one elided event.
		kinds: slices.Concat(
			[]Kind{KindSYN, KindSYNACK, KindOpen, KindOpen, KindKeepalive, KindKeepalive},
			slices.Repeat([]Kind{KindUpdate}, 9), []Kind{KindElided}, slices.Repeat([]Kind{KindUpdate}, 10),
			[]Kind{KindUpdate, KindKeepalive}),
	},
}

// mpUpdate builds an IPv6 UPDATE with MP_REACH_NLRI and MP_UNREACH_NLRI,
// an ORIGINATOR_ID and a CLUSTER_LIST.
func mpUpdate(b *pcapBuilder, nh string, announce, withdraw []string) []byte {
	nlri := func(ps []string) []bgp.PathNLRI {
		var out []bgp.PathNLRI
		for _, p := range ps {
			n, err := bgp.NewIPAddrPrefix(netip.MustParsePrefix(p))
			if err != nil {
				b.tb.Fatal(err)
			}
			out = append(out, bgp.PathNLRI{NLRI: n})
		}
		return out
	}
	reach, err := bgp.NewPathAttributeMpReachNLRI(bgp.RF_IPv6_UC, nlri(announce), netip.MustParseAddr(nh))
	if err != nil {
		b.tb.Fatal(err)
	}
	unreach, err := bgp.NewPathAttributeMpUnreachNLRI(bgp.RF_IPv6_UC, nlri(withdraw))
	if err != nil {
		b.tb.Fatal(err)
	}
	orig, _ := bgp.NewPathAttributeOriginatorId(netip.MustParseAddr("9.9.9.9"))
	cl, _ := bgp.NewPathAttributeClusterList([]netip.Addr{netip.MustParseAddr("8.8.8.8")})
	attrs := []bgp.PathAttributeInterface{
		bgp.NewPathAttributeOrigin(0),
		bgp.NewPathAttributeAsPath([]bgp.AsPathParamInterface{bgp.NewAs4PathParam(bgp.BGP_ASPATH_ATTR_TYPE_SEQ, []uint32{4200000001})}),
		reach, unreach, orig, cl,
	}
	return mustSerialize(b.tb, bgp.NewBGPUpdateMessage(nil, attrs, nil))
}
