package capture

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// packetSource is what both pcapgo readers provide.
type packetSource interface {
	ZeroCopyReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	LinkType() layers.LinkType
}

// File magics, as the first four bytes read big-endian.
const (
	magicPcapNG      = 0x0a0d0d0a
	magicPcapMicro   = 0xa1b2c3d4
	magicPcapMicroLE = 0xd4c3b2a1
	magicPcapNano    = 0xa1b23c4d
	magicPcapNanoLE  = 0x4d3cb2a1
)

// readBufferSize is the buffered reader size for capture files.
const readBufferSize = 256 << 10

// openPacketSource detects pcap or pcapng by magic and returns a reader.
func openPacketSource(r io.Reader) (packetSource, error) {
	br := bufio.NewReaderSize(r, readBufferSize)
	head, err := br.Peek(4)
	if err != nil {
		return nil, fmt.Errorf("capture: reading file magic: %w", err)
	}
	switch binary.BigEndian.Uint32(head) {
	case magicPcapNG:
		ng, err := pcapgo.NewNgReader(br, pcapgo.NgReaderOptions{})
		if err != nil {
			return nil, fmt.Errorf("capture: opening pcapng: %w", err)
		}
		return ng, nil
	case magicPcapMicro, magicPcapMicroLE, magicPcapNano, magicPcapNanoLE:
		pr, err := pcapgo.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("capture: opening pcap: %w", err)
		}
		return pr, nil
	}
	return nil, fmt.Errorf("capture: not a pcap or pcapng file (magic %x): %w", head, ErrUnknownFormat)
}
