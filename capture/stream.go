package capture

import (
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/reassembly"
)

// streamFactory creates a bgpStream per TCP connection.
type streamFactory struct{ d *decoder }

// New implements reassembly.StreamFactory.
func (f *streamFactory) New(netFlow, tcpFlow gopacket.Flow, _ *layers.TCP, _ reassembly.AssemblerContext) reassembly.Stream {
	src, _ := netip.AddrFromSlice(netFlow.Src().Raw())
	dst, _ := netip.AddrFromSlice(netFlow.Dst().Raw())
	from := netip.AddrPortFrom(src, portOf(tcpFlow.Src()))
	to := netip.AddrPortFrom(dst, portOf(tcpFlow.Dst()))
	return &bgpStream{d: f.d, sess: f.d.session(src, dst), ends: [2]netip.AddrPort{from, to}}
}

// portOf decodes a TCP port endpoint.
func portOf(e gopacket.Endpoint) uint16 {
	r := e.Raw()
	if len(r) != 2 {
		return 0
	}
	return uint16(r[0])<<8 | uint16(r[1])
}

// bgpStream splits both directions of one TCP connection into BGP messages.
type bgpStream struct {
	d    *decoder
	sess *sessionState
	// ends[0] is the client (first packet's source), ends[1] the server.
	ends  [2]netip.AddrPort
	split [2]Splitter
}

// Accept implements reassembly.Stream: every segment is taken, and a
// stream whose start was not captured is started at its first segment.
func (s *bgpStream) Accept(_ *layers.TCP, _ gopacket.CaptureInfo, _ reassembly.TCPFlowDirection, nextSeq reassembly.Sequence, start *bool, _ reassembly.AssemblerContext) bool {
	if nextSeq == -1 {
		*start = true
	}
	return true
}

// ReassembledSG implements reassembly.Stream.
func (s *bgpStream) ReassembledSG(sg reassembly.ScatterGather, ac reassembly.AssemblerContext) {
	dir, _, _, skip := sg.Info()
	i := 0
	if dir == reassembly.TCPDirServerToClient {
		i = 1
	}
	from, to := s.ends[i], s.ends[1-i]
	ts := s.d.now
	if ac != nil {
		ts = ac.GetCaptureInfo().Timestamp
	}
	emit := func(m StreamMessage) { s.emit(m, from, to, ts) }
	if skip > 0 {
		// Bytes are missing from the capture: drop the partial message.
		s.split[i].Flush(emit)
		s.split[i].off += int64(skip)
	}
	n, _ := sg.Lengths()
	if n == 0 {
		return
	}
	s.split[i].Write(sg.Fetch(n), emit)
}

// emit turns a split unit into an event.
func (s *bgpStream) emit(m StreamMessage, from, to netip.AddrPort, ts time.Time) {
	ev := Event{Time: ts, From: from, To: to}
	err := m.Err
	if err == nil {
		err = s.d.msgs.decode(m.Bytes, s.sess.as4, s.sess.pathIDs[s.sess.dir(from.Addr())], &ev)
	}
	if err != nil {
		ev.Kind = KindMalformed
		ev.Update, ev.Open, ev.Notification, ev.RouteRefresh = nil, nil, nil, nil
		ev.Malformed = &MalformedInfo{Offset: m.Offset, Length: len(m.Bytes), Error: err.Error(), Bytes: hexTruncated(m.Bytes)}
	}
	s.sess.message(ev)
}

// ReassemblyComplete implements reassembly.Stream.
// The reassembler passes a nil context when it flushes, so the time of the
// last packet is used.
func (s *bgpStream) ReassemblyComplete(_ reassembly.AssemblerContext) bool {
	ts := s.d.now
	for i := range s.split {
		from, to := s.ends[i], s.ends[1-i]
		s.split[i].Flush(func(m StreamMessage) { s.emit(m, from, to, ts) })
	}
	return true
}
