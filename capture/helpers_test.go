package capture

import (
	"bytes"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/osrg/gobgp/v4/pkg/packet/bgp"
)

// testEpoch is the fixed start time of generated captures, so their bytes
// and goldens are stable.
var testEpoch = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

// packetWriter is implemented by pcapgo.Writer and pcapgo.NgWriter.
type packetWriter interface {
	WritePacket(ci gopacket.CaptureInfo, data []byte) error
}

// pcapBuilder writes synthetic Ethernet/IP/TCP packets into a capture.
type pcapBuilder struct {
	tb  testing.TB
	buf bytes.Buffer
	w   packetWriter
	ng  *pcapgo.NgWriter
	now time.Time
	ser gopacket.SerializeBuffer
}

// newPcapBuilder starts a classic pcap (ng=false) or a pcapng capture.
func newPcapBuilder(tb testing.TB, ng bool) *pcapBuilder {
	b := &pcapBuilder{tb: tb, now: testEpoch, ser: gopacket.NewSerializeBuffer()}
	if ng {
		w, err := pcapgo.NewNgWriter(&b.buf, layers.LinkTypeEthernet)
		if err != nil {
			tb.Fatal(err)
		}
		b.w, b.ng = w, w
		return b
	}
	w := pcapgo.NewWriterNanos(&b.buf)
	if err := w.WriteFileHeader(65536, layers.LinkTypeEthernet); err != nil {
		tb.Fatal(err)
	}
	b.w = w
	return b
}

// bytes returns the capture written so far.
func (b *pcapBuilder) bytes() []byte {
	if b.ng != nil {
		if err := b.ng.Flush(); err != nil {
			b.tb.Fatal(err)
		}
	}
	return b.buf.Bytes()
}

// wait advances the capture clock.
func (b *pcapBuilder) wait(d time.Duration) { b.now = b.now.Add(d) }

// write serializes layers as one packet at the current time, then
// advances the clock by a millisecond.
func (b *pcapBuilder) write(ls ...gopacket.SerializableLayer) {
	b.tb.Helper()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(b.ser, opts, ls...); err != nil {
		b.tb.Fatal(err)
	}
	data := b.ser.Bytes()
	ci := gopacket.CaptureInfo{Timestamp: b.now, CaptureLength: len(data), Length: len(data)}
	if err := b.w.WritePacket(ci, data); err != nil {
		b.tb.Fatal(err)
	}
	b.now = b.now.Add(time.Millisecond)
}

// ipLayers returns Ethernet and IP headers from src to dst.
func ipLayers(src, dst netip.Addr, proto layers.IPProtocol) (*layers.Ethernet, gopacket.NetworkLayer, gopacket.SerializableLayer) {
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
	if src.Is6() {
		eth.EthernetType = layers.EthernetTypeIPv6
		ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: proto, SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
		return eth, ip, ip
	}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: proto, SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
	return eth, ip, ip
}

// tcpConn is one synthetic TCP connection with its sequence numbers.
type tcpConn struct {
	b              *pcapBuilder
	client, server netip.AddrPort
	cseq, sseq     uint32
	md5            bool
}

// conn starts a connection from client to server (no packet yet).
func (b *pcapBuilder) conn(client, server string) *tcpConn {
	return &tcpConn{b: b, client: netip.MustParseAddrPort(client), server: netip.MustParseAddrPort(server), cseq: 1000, sseq: 5000}
}

// segFlags selects TCP flags.
type segFlags struct{ syn, ack, fin, rst, psh bool }

// seg writes one segment; fromClient picks the direction.
func (c *tcpConn) seg(fromClient bool, f segFlags, payload []byte) {
	c.b.tb.Helper()
	src, dst, seq, ack := c.client, c.server, &c.cseq, c.sseq
	if !fromClient {
		src, dst, seq, ack = c.server, c.client, &c.sseq, c.cseq
	}
	eth, nl, ip := ipLayers(src.Addr(), dst.Addr(), layers.IPProtocolTCP)
	tcp := &layers.TCP{SrcPort: layers.TCPPort(src.Port()), DstPort: layers.TCPPort(dst.Port()),
		Seq: *seq, Window: 65535, SYN: f.syn, FIN: f.fin, RST: f.rst, PSH: f.psh}
	if f.ack {
		tcp.ACK, tcp.Ack = true, ack
	}
	if c.md5 {
		tcp.Options = []layers.TCPOption{{OptionType: 19, OptionLength: 18, OptionData: make([]byte, 16)}}
	}
	if err := tcp.SetNetworkLayerForChecksum(nl); err != nil {
		c.b.tb.Fatal(err)
	}
	c.b.write(eth, ip, tcp, gopacket.Payload(payload))
	*seq += uint32(len(payload))
	if f.syn || f.fin {
		*seq++
	}
}

// handshake writes SYN, SYN-ACK, ACK.
func (c *tcpConn) handshake() {
	c.seg(true, segFlags{syn: true}, nil)
	c.seg(false, segFlags{syn: true, ack: true}, nil)
	c.seg(true, segFlags{ack: true}, nil)
}

// send writes BGP messages in one segment and the peer's ACK.
func (c *tcpConn) send(fromClient bool, msgs ...[]byte) {
	c.seg(fromClient, segFlags{ack: true, psh: true}, bytes.Join(msgs, nil))
	c.seg(!fromClient, segFlags{ack: true}, nil)
}

// stream writes data from one side cut into segments of at most mss
// bytes, as TCP cuts a large write, each ACKed by the peer.
func (c *tcpConn) stream(fromClient bool, mss int, data []byte) {
	for len(data) > 0 {
		n := min(len(data), mss)
		c.seg(fromClient, segFlags{ack: true, psh: n < mss}, data[:n])
		c.seg(!fromClient, segFlags{ack: true}, nil)
		data = data[n:]
	}
}

// icmpUnreachable writes an ICMPv4 type 3 error from reporter to the
// client, quoting the client's last SYN.
func (c *tcpConn) icmpUnreachable(reporter string, code uint8) {
	c.b.tb.Helper()
	rep := netip.MustParseAddr(reporter)
	eth, _, ip := ipLayers(rep, c.client.Addr(), layers.IPProtocolICMPv4)
	quoted := gopacket.NewSerializeBuffer()
	qip := &layers.IPv4{Version: 4, TTL: 63, Protocol: layers.IPProtocolTCP, SrcIP: c.client.Addr().AsSlice(), DstIP: c.server.Addr().AsSlice()}
	qtcp := &layers.TCP{SrcPort: layers.TCPPort(c.client.Port()), DstPort: layers.TCPPort(c.server.Port()), Seq: c.cseq - 1, SYN: true, Window: 65535}
	_ = qtcp.SetNetworkLayerForChecksum(qip)
	if err := gopacket.SerializeLayers(quoted, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, qip, qtcp); err != nil {
		c.b.tb.Fatal(err)
	}
	icmp := &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeDestinationUnreachable, code)}
	c.b.write(eth, ip, icmp, gopacket.Payload(quoted.Bytes()[:28]))
}

// mustSerialize serializes a GoBGP message.
func mustSerialize(tb testing.TB, m *bgp.BGPMessage) []byte {
	tb.Helper()
	b, err := m.Serialize()
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// openMsg builds an OPEN with multiprotocol IPv4 unicast, route refresh
// and the 4-octet AS capability.
func openMsg(tb testing.TB, as uint32, hold uint16, id string) []byte {
	caps := []bgp.ParameterCapabilityInterface{
		bgp.NewCapMultiProtocol(bgp.RF_IPv4_UC),
		bgp.NewCapRouteRefresh(),
		bgp.NewCapFourOctetASNumber(as),
	}
	myAS := uint16(as)
	if as > 65535 {
		myAS = 23456
	}
	m, err := bgp.NewBGPOpenMessage(myAS, hold, netip.MustParseAddr(id), []bgp.OptionParameterInterface{bgp.NewOptionParameterCapability(caps)})
	if err != nil {
		tb.Fatal(err)
	}
	return mustSerialize(tb, m)
}

func keepaliveMsg(tb testing.TB) []byte { return mustSerialize(tb, bgp.NewBGPKeepAliveMessage()) }

func notificationMsg(tb testing.TB, code, sub uint8, data []byte) []byte {
	return mustSerialize(tb, bgp.NewBGPNotificationMessage(code, sub, data))
}

// shutdownData encodes an RFC 9003 shutdown communication.
func shutdownData(text string) []byte { return append([]byte{byte(len(text))}, text...) }

// updateMsg builds an IPv4 UPDATE announcing prefixes with next hop,
// AS path, communities and reflection attributes.
func updateMsg(tb testing.TB, nextHop string, path []uint32, comms []uint32, prefixes ...string) []byte {
	tb.Helper()
	nh, err := bgp.NewPathAttributeNextHop(netip.MustParseAddr(nextHop))
	if err != nil {
		tb.Fatal(err)
	}
	attrs := []bgp.PathAttributeInterface{
		bgp.NewPathAttributeOrigin(0),
		bgp.NewPathAttributeAsPath([]bgp.AsPathParamInterface{bgp.NewAs4PathParam(bgp.BGP_ASPATH_ATTR_TYPE_SEQ, path)}),
		nh,
	}
	if len(comms) > 0 {
		attrs = append(attrs, bgp.NewPathAttributeCommunities(comms))
	}
	var nlri []bgp.PathNLRI
	for _, p := range prefixes {
		n, err := bgp.NewIPAddrPrefix(netip.MustParsePrefix(p))
		if err != nil {
			tb.Fatal(err)
		}
		nlri = append(nlri, bgp.PathNLRI{NLRI: n})
	}
	return mustSerialize(tb, bgp.NewBGPUpdateMessage(nil, attrs, nlri))
}
