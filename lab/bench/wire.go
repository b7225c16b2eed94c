package bench

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Wire is what one speaker sent, as reassembled from a capture.
type Wire struct {
	// FirstSYN is the time of the first TCP SYN (either direction) of a
	// session with the speaker at or after Since; zero when none was seen.
	FirstSYN time.Time
	// Updates and UpdateBytes count the BGP UPDATE messages the speaker
	// sent and their length (BGP header included).
	Updates     int
	UpdateBytes int64
	// Prefixes counts the IPv4 NLRI in those UPDATEs.
	Prefixes int
	// FirstNLRI is when the segment completing the first UPDATE that
	// carries NLRI was captured; zero when none was.
	FirstNLRI time.Time
	// LastUpdate is when the segment completing the last UPDATE was captured.
	LastUpdate time.Time
	// Gaps counts segments lost by the capture; the counts are then low.
	Gaps int
}

// flow is one direction of a TCP connection being reassembled.
type flow struct {
	next uint32
	buf  []byte
	ok   bool
}

// DecodeWire reads a pcap or pcapng stream captured on a target's
// interface and returns what speaker sent on BGP port 179 from since on.
func DecodeWire(r io.Reader, speaker netip.Addr, since time.Time) (Wire, error) {
	src, err := packetSource(r)
	if err != nil {
		return Wire{}, err
	}
	var w Wire
	flows := map[[2]uint16]*flow{}
	for {
		data, ci, err := src.ReadPacketData()
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return w, nil
		}
		if err != nil {
			return w, fmt.Errorf("read capture: %w", err)
		}
		if ci.Timestamp.Before(since) {
			continue
		}
		p := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.DecodeOptions{Lazy: true, NoCopy: true})
		ip, _ := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		tcp, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if ip == nil || tcp == nil || (tcp.SrcPort != 179 && tcp.DstPort != 179) {
			continue
		}
		srcIP, _ := netip.AddrFromSlice(ip.SrcIP)
		dstIP, _ := netip.AddrFromSlice(ip.DstIP)
		if srcIP != speaker && dstIP != speaker {
			continue
		}
		if tcp.SYN && !tcp.ACK && w.FirstSYN.IsZero() {
			w.FirstSYN = ci.Timestamp
		}
		if srcIP != speaker {
			continue
		}
		key := [2]uint16{uint16(tcp.SrcPort), uint16(tcp.DstPort)}
		f := flows[key]
		if tcp.SYN {
			flows[key] = &flow{next: tcp.Seq + 1, ok: true}
			continue
		}
		if f == nil || !f.ok || len(tcp.Payload) == 0 {
			continue
		}
		payload := tcp.Payload
		d := int32(tcp.Seq - f.next)
		switch {
		case d > 0: // the capture lost a segment: stop counting this flow
			w.Gaps++
			f.ok = false
			continue
		case d < 0: // retransmission, maybe partly new
			if int(-d) >= len(payload) {
				continue
			}
			payload = payload[-d:]
		}
		f.next += uint32(len(payload))
		f.buf = append(f.buf, payload...)
		before, prefixes := w.Updates, w.Prefixes
		f.buf = w.consume(f.buf)
		if w.Updates > before {
			w.LastUpdate = ci.Timestamp
		}
		if w.Prefixes > prefixes && w.FirstNLRI.IsZero() {
			w.FirstNLRI = ci.Timestamp
		}
	}
}

// consume counts the complete BGP messages at the start of buf and
// returns the rest.
func (w *Wire) consume(buf []byte) []byte {
	for len(buf) >= 19 {
		n := int(binary.BigEndian.Uint16(buf[16:18]))
		if n < 19 {
			return nil // not BGP framing: give up on the flow's buffer
		}
		if len(buf) < n {
			break
		}
		if buf[18] == 2 {
			w.Updates++
			w.UpdateBytes += int64(n)
			w.Prefixes += countNLRI(buf[19:n])
		}
		buf = buf[n:]
	}
	return append([]byte(nil), buf...)
}

// countNLRI counts the prefixes in an UPDATE body's NLRI field.
func countNLRI(body []byte) int {
	if len(body) < 2 {
		return 0
	}
	wl := int(binary.BigEndian.Uint16(body))
	if len(body) < 2+wl+2 {
		return 0
	}
	al := int(binary.BigEndian.Uint16(body[2+wl:]))
	nlri := body[min(len(body), 4+wl+al):]
	n := 0
	for len(nlri) > 0 {
		bits := int(nlri[0])
		l := 1 + (bits+7)/8
		if l > len(nlri) {
			break
		}
		n++
		nlri = nlri[l:]
	}
	return n
}

// packetReader is what pcap and pcapng readers share.
type packetReader interface {
	ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
}

// packetSource opens r as pcapng or, failing that, as pcap.
func packetSource(r io.Reader) (packetReader, error) {
	head := make([]byte, 4)
	if _, err := io.ReadFull(r, head); err != nil {
		return nil, fmt.Errorf("read capture header: %w", err)
	}
	r = io.MultiReader(bytes.NewReader(head), r)
	if binary.LittleEndian.Uint32(head) == 0x0A0D0D0A {
		ng, err := pcapgo.NewNgReader(r, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			return nil, fmt.Errorf("open pcapng: %w", err)
		}
		return ng, nil
	}
	pr, err := pcapgo.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("open pcap: %w", err)
	}
	return pr, nil
}
