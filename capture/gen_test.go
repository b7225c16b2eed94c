package capture

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/osrg/gobgp/v4/pkg/packet/bgp"
)

// transferSpec describes a synthetic capture of one BGP speaker pushing a
// table to its peer, as writeTableTransfer generates it.
type transferSpec struct {
	// Updates is the number of UPDATE messages, one distinct /24 each.
	Updates int
	// Port is the server's BGP port; default 179.
	Port int
	// MSS is the TCP payload size of a full segment; default 1400.
	MSS int
	// Start is the time of the first packet; default testEpoch.
	Start time.Time
}

// Environment of the generator mode of the test binary: with
// PEERLAB_CAPTURE_GEN=FILE (and optionally PEERLAB_CAPTURE_GEN_UPDATES=N,
// PEERLAB_CAPTURE_GEN_PORT=P) the binary writes the capture and exits:
//
//	PEERLAB_CAPTURE_GEN=/tmp/1m.pcap PEERLAB_CAPTURE_GEN_UPDATES=1000000 go test ./capture -run '^$'
const (
	envGenPath    = "PEERLAB_CAPTURE_GEN"
	envGenUpdates = "PEERLAB_CAPTURE_GEN_UPDATES"
	envGenPort    = "PEERLAB_CAPTURE_GEN_PORT"
)

// runGenerator is the generator mode of the test binary.
func runGenerator(path string) int {
	spec := transferSpec{Updates: 1_000_000}
	if v := os.Getenv(envGenUpdates); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", envGenUpdates, err)
			return 2
		}
		spec.Updates = n
	}
	if v := os.Getenv(envGenPort); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", envGenPort, err)
			return 2
		}
		spec.Port = p
	}
	if err := writeTableTransferFile(path, spec); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("wrote %s: %d UPDATEs\n", path, spec.Updates)
	return 0
}

// writeTableTransferFile writes the capture of spec to path.
func writeTableTransferFile(path string, spec transferSpec) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := writeTableTransfer(f, spec); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// writeTableTransfer writes a classic pcap (nanosecond timestamps) of one
// session: handshake, OPENs, KEEPALIVEs, then spec.Updates UPDATEs from
// the client packed back to back into MSS-sized segments (messages
// straddle segment boundaries, as when a speaker writes a large buffer),
// the peer ACKing every second segment, then an End-of-RIB and a
// KEEPALIVE each way. The BGP message count is spec.Updates + 7.
func writeTableTransfer(out io.Writer, spec transferSpec) error {
	if spec.Port == 0 {
		spec.Port = DefaultPort
	}
	if spec.MSS == 0 {
		spec.MSS = 1400
	}
	if spec.Start.IsZero() {
		spec.Start = testEpoch
	}
	bw := bufio.NewWriterSize(out, 1<<20)
	pw := pcapgo.NewWriterNanos(bw)
	if err := pw.WriteFileHeader(65536, layers.LinkTypeEthernet); err != nil {
		return err
	}
	g := &genConn{
		w: pw, now: spec.Start, ser: gopacket.NewSerializeBuffer(),
		client: netip.MustParseAddrPort("192.0.2.1:40000"),
		server: netip.AddrPortFrom(netip.MustParseAddr("192.0.2.2"), uint16(spec.Port)),
		seq:    [2]uint32{1000, 5000},
	}
	msgs, err := genMessages()
	if err != nil {
		return err
	}
	steps := []func() error{
		func() error { return g.seg(0, genSYN, nil) },
		func() error { return g.seg(1, genSYN|genACK, nil) },
		func() error { return g.seg(0, genACK, nil) },
		func() error { return g.seg(0, genACK|genPSH, msgs.openA) },
		func() error { return g.seg(1, genACK|genPSH, msgs.openB) },
		func() error { return g.seg(0, genACK|genPSH, msgs.keepalive) },
		func() error { return g.seg(1, genACK|genPSH, msgs.keepalive) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	buf := make([]byte, 0, 2*spec.MSS)
	segs := 0
	flush := func(all bool) error {
		for len(buf) >= spec.MSS || (all && len(buf) > 0) {
			n := min(len(buf), spec.MSS)
			if err := g.seg(0, genACK|genPSH, buf[:n]); err != nil {
				return err
			}
			buf = append(buf[:0], buf[n:]...)
			g.now = g.now.Add(12 * time.Microsecond) // ~1 Gbit/s
			if segs++; segs%2 == 0 {
				if err := g.seg(1, genACK, nil); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for i := range spec.Updates {
		m := msgs.updates[i%len(msgs.updates)]
		start := len(buf)
		buf = append(buf, m...)
		p := uint32(1<<24 + i<<8) // 1.0.0.0/24, 1.0.1.0/24, ...
		buf[start+len(m)-3], buf[start+len(m)-2], buf[start+len(m)-1] = byte(p>>24), byte(p>>16), byte(p>>8)
		if err := flush(false); err != nil {
			return err
		}
	}
	buf = append(buf, msgs.endOfRIB...)
	if err := flush(true); err != nil {
		return err
	}
	g.now = g.now.Add(time.Second)
	if err := g.seg(0, genACK|genPSH, msgs.keepalive); err != nil {
		return err
	}
	if err := g.seg(1, genACK|genPSH, msgs.keepalive); err != nil {
		return err
	}
	return bw.Flush()
}

// genMessageSet holds the serialized messages of a table transfer.
type genMessageSet struct {
	openA, openB, keepalive, endOfRIB []byte
	// updates are templates announcing a /24 in their last three bytes,
	// with a few distinct AS paths as a real table has.
	updates [][]byte
}

func genMessages() (*genMessageSet, error) {
	var s genMessageSet
	var err error
	ser := func(m *bgp.BGPMessage) []byte {
		if err != nil {
			return nil
		}
		var b []byte
		b, err = m.Serialize()
		return b
	}
	open := func(as uint32, id string) []byte {
		caps := []bgp.ParameterCapabilityInterface{
			bgp.NewCapMultiProtocol(bgp.RF_IPv4_UC), bgp.NewCapRouteRefresh(), bgp.NewCapFourOctetASNumber(as),
		}
		m, oerr := bgp.NewBGPOpenMessage(uint16(as), 90, netip.MustParseAddr(id),
			[]bgp.OptionParameterInterface{bgp.NewOptionParameterCapability(caps)})
		if oerr != nil {
			err = oerr
			return nil
		}
		return ser(m)
	}
	s.openA, s.openB = open(65001, "192.0.2.1"), open(65002, "192.0.2.2")
	s.keepalive = ser(bgp.NewBGPKeepAliveMessage())
	s.endOfRIB = ser(bgp.NewBGPUpdateMessage(nil, nil, nil))
	nh, nerr := bgp.NewPathAttributeNextHop(netip.MustParseAddr("192.0.2.1"))
	if nerr != nil {
		return nil, nerr
	}
	prefix, perr := bgp.NewIPAddrPrefix(netip.MustParsePrefix("1.0.0.0/24"))
	if perr != nil {
		return nil, perr
	}
	for origin := range uint32(16) {
		attrs := []bgp.PathAttributeInterface{
			bgp.NewPathAttributeOrigin(0),
			bgp.NewPathAttributeAsPath([]bgp.AsPathParamInterface{
				bgp.NewAs4PathParam(bgp.BGP_ASPATH_ATTR_TYPE_SEQ, []uint32{65001, 64512 + origin}),
			}),
			nh,
			bgp.NewPathAttributeCommunities([]uint32{65001<<16 | origin}),
		}
		s.updates = append(s.updates, ser(bgp.NewBGPUpdateMessage(nil, attrs, []bgp.PathNLRI{{NLRI: prefix}})))
	}
	if err != nil {
		return nil, fmt.Errorf("serialize BGP messages: %w", err)
	}
	return &s, nil
}

// TCP flags of genConn.seg.
const (
	genSYN = 1 << iota
	genACK
	genPSH
)

// genConn writes the packets of one TCP connection; index 0 is the client.
type genConn struct {
	w              *pcapgo.Writer
	now            time.Time
	ser            gopacket.SerializeBuffer
	client, server netip.AddrPort
	seq            [2]uint32
}

// seg writes one segment from side i (0 client, 1 server).
func (g *genConn) seg(i int, flags int, payload []byte) error {
	src, dst := g.client, g.server
	if i == 1 {
		src, dst = dst, src
	}
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, byte(1 + i)}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, byte(2 - i)},
		EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice()}
	tcp := &layers.TCP{SrcPort: layers.TCPPort(src.Port()), DstPort: layers.TCPPort(dst.Port()), Seq: g.seq[i], Window: 65535,
		SYN: flags&genSYN != 0, PSH: flags&genPSH != 0}
	if flags&genACK != 0 {
		tcp.ACK, tcp.Ack = true, g.seq[1-i]
	}
	if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
		return err
	}
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(g.ser, opts, eth, ip, tcp, gopacket.Payload(payload)); err != nil {
		return fmt.Errorf("serialize segment: %w", err)
	}
	data := g.ser.Bytes()
	if err := g.w.WritePacket(gopacket.CaptureInfo{Timestamp: g.now, CaptureLength: len(data), Length: len(data)}, data); err != nil {
		return err
	}
	g.seq[i] += uint32(len(payload))
	if flags&genSYN != 0 {
		g.seq[i]++
	}
	g.now = g.now.Add(time.Microsecond)
	return nil
}
