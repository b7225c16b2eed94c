package bench

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// update builds a BGP UPDATE with attrLen bytes of attributes and the
// given /24s as NLRI.
func update(attrLen int, pfx []netip.Prefix) []byte {
	body := []byte{0, 0, byte(attrLen >> 8), byte(attrLen)}
	body = append(body, make([]byte, attrLen)...)
	for _, p := range pfx {
		a := p.Addr().As4()
		body = append(body, 24, a[0], a[1], a[2])
	}
	msg := bytes.Repeat([]byte{0xff}, 16)
	msg = binary.BigEndian.AppendUint16(msg, uint16(19+len(body)))
	msg = append(msg, 2)
	return append(msg, body...)
}

// segment is one TCP segment from 10.77.0.1 to 10.77.0.2:179.
func segment(t *testing.T, w *pcapgo.Writer, ts time.Time, seq uint32, syn bool, payload []byte) {
	t.Helper()
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: net.IP{10, 77, 0, 1}, DstIP: net.IP{10, 77, 0, 2}}
	tcp := &layers.TCP{SrcPort: 40000, DstPort: 179, Seq: seq, SYN: syn, ACK: !syn, Window: 1000}
	if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
		t.Fatal(err)
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, tcp, gopacket.Payload(payload)); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(b), Length: len(b)}, b); err != nil {
		t.Fatal(err)
	}
}

// TestDecodeWire feeds a pcap with two UPDATEs split across segments, a
// retransmission and a KEEPALIVE, and checks counts, bytes and the SYN.
func TestDecodeWire(t *testing.T) {
	pfx := Prefixes(1000)
	u1, u2 := update(20, pfx[:600]), update(20, pfx[600:])
	keepalive := append(bytes.Repeat([]byte{0xff}, 16), 0, 19, 4)
	stream := append(append(append([]byte{}, keepalive...), u1...), u2...)
	var pcap bytes.Buffer
	w := pcapgo.NewWriter(&pcap)
	if err := w.WriteFileHeader(65536, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(1000, 0)
	segment(t, w, t0.Add(-time.Second), 99, true, nil) // before since: ignored
	segment(t, w, t0, 99, true, nil)
	seq := uint32(100)
	for i, off := 0, 0; off < len(stream); i++ {
		end := min(off+1000, len(stream))
		segment(t, w, t0.Add(time.Duration(i+1)*time.Millisecond), seq, false, stream[off:end])
		if i == 1 { // retransmit the segment just sent
			segment(t, w, t0.Add(time.Duration(i+1)*time.Millisecond), seq, false, stream[off:end])
		}
		seq += uint32(end - off)
		off = end
	}
	got, err := DecodeWire(&pcap, netip.MustParseAddr("10.77.0.1"), t0)
	if err != nil {
		t.Fatal(err)
	}
	// The KEEPALIVE and u1 (19 + 2,443 bytes) end in the third segment.
	want := Wire{FirstSYN: t0, FirstNLRI: t0.Add(3 * time.Millisecond), LastUpdate: t0.Add(5 * time.Millisecond), Updates: 2, UpdateBytes: int64(len(u1) + len(u2)), Prefixes: 1000}
	if !got.FirstSYN.Equal(want.FirstSYN) || !got.FirstNLRI.Equal(want.FirstNLRI) || !got.LastUpdate.Equal(want.LastUpdate) || got.Updates != want.Updates || got.UpdateBytes != want.UpdateBytes || got.Prefixes != want.Prefixes || got.Gaps != 0 {
		t.Errorf("DecodeWire = %+v, want %+v", got, want)
	}
}

// TestFloorBytes checks the packed floor formula at UPDATE boundaries.
func TestFloorBytes(t *testing.T) {
	tests := []struct {
		n    int
		want int64
	}{
		{1, 4 + UpdateOverhead},
		{FloorPerUpdate, 4*FloorPerUpdate + UpdateOverhead},
		{FloorPerUpdate + 1, 4*(FloorPerUpdate+1) + 2*UpdateOverhead},
		{100000, 400000 + 99*UpdateOverhead},
	}
	for _, tt := range tests {
		if got := FloorBytes(tt.n); got != tt.want {
			t.Errorf("FloorBytes(%d) = %d, want %d", tt.n, got, tt.want)
		}
	}
	if 4*FloorPerUpdate+UpdateOverhead > 4096 {
		t.Errorf("a full floor UPDATE is %d bytes, over 4096", 4*FloorPerUpdate+UpdateOverhead)
	}
}
