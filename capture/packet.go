package capture

import (
	"encoding/binary"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// packetParser decodes link, network and transport headers without
// allocating, for the link types captures of BGP sessions come in.
type packetParser struct {
	eth    layers.Ethernet
	dot1q  layers.Dot1Q
	sll    layers.LinuxSLL
	ip4    layers.IPv4
	ip6    layers.IPv6
	tcp    layers.TCP
	icmp4  layers.ICMPv4
	icmp6  layers.ICMPv6
	byLink map[gopacket.LayerType]*gopacket.DecodingLayerParser
	found  []gopacket.LayerType
}

// decodedPacket lists which layers the last parse found.
type decodedPacket struct {
	v4, v6, tcp, icmp4, icmp6 bool
}

func newPacketParser() *packetParser {
	p := &packetParser{byLink: map[gopacket.LayerType]*gopacket.DecodingLayerParser{}}
	decoders := []gopacket.DecodingLayer{&p.eth, &p.dot1q, &p.sll, &p.ip4, &p.ip6, &p.tcp, &p.icmp4, &p.icmp6}
	for _, first := range []gopacket.LayerType{layers.LayerTypeEthernet, layers.LayerTypeLinuxSLL, layers.LayerTypeIPv4, layers.LayerTypeIPv6} {
		dlp := gopacket.NewDecodingLayerParser(first, decoders...)
		dlp.IgnoreUnsupported = true
		p.byLink[first] = dlp
	}
	p.found = make([]gopacket.LayerType, 0, 8)
	return p
}

// parse decodes data captured with the given link type.
func (p *packetParser) parse(link layers.LinkType, data []byte) (decodedPacket, bool) {
	var first gopacket.LayerType
	switch link {
	case layers.LinkTypeEthernet:
		first = layers.LayerTypeEthernet
	case layers.LinkTypeLinuxSLL:
		first = layers.LayerTypeLinuxSLL
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		if len(data) < 4 {
			return decodedPacket{}, false
		}
		data = data[4:]
		fallthrough
	case layers.LinkTypeRaw, layers.LinkTypeIPv4, layers.LinkTypeIPv6, 12, 14:
		if len(data) == 0 {
			return decodedPacket{}, false
		}
		first = layers.LayerTypeIPv4
		if data[0]>>4 == 6 {
			first = layers.LayerTypeIPv6
		}
	default:
		return decodedPacket{}, false
	}
	// Errors mean a truncated or odd packet; the layers decoded before it stay usable.
	_ = p.byLink[first].DecodeLayers(data, &p.found)
	var d decodedPacket
	for _, t := range p.found {
		switch t {
		case layers.LayerTypeIPv4:
			d.v4 = true
		case layers.LayerTypeIPv6:
			d.v6 = true
		case layers.LayerTypeTCP:
			d.tcp = true
		case layers.LayerTypeICMPv4:
			d.icmp4 = true
		case layers.LayerTypeICMPv6:
			d.icmp6 = true
		}
	}
	if d.v4 && (p.ip4.Flags&layers.IPv4MoreFragments != 0 || p.ip4.FragOffset != 0) {
		d.tcp, d.icmp4 = false, false // fragments are not reassembled
	}
	return d, d.v4 || d.v6
}

// addrs returns the network source and destination of the last parse.
func (p *packetParser) addrs(d decodedPacket) (src, dst netip.Addr) {
	if d.v4 {
		src, _ = netip.AddrFromSlice(p.ip4.SrcIP.To4())
		dst, _ = netip.AddrFromSlice(p.ip4.DstIP.To4())
		return src, dst
	}
	src, _ = netip.AddrFromSlice(p.ip6.SrcIP)
	dst, _ = netip.AddrFromSlice(p.ip6.DstIP)
	return src, dst
}

// netFlow returns the gopacket network flow of the last parse.
func (p *packetParser) netFlow(d decodedPacket) gopacket.Flow {
	if d.v4 {
		return p.ip4.NetworkFlow()
	}
	return p.ip6.NetworkFlow()
}

// hasMD5 reports whether the TCP header carries option kind 19.
func (p *packetParser) hasMD5() bool {
	for _, o := range p.tcp.Options {
		if o.OptionType == 19 {
			return true
		}
	}
	return false
}

// quotedTCP is the TCP segment quoted inside an ICMP error.
type quotedTCP struct {
	src, dst netip.AddrPort
}

// quotedSegment parses the IP header and first TCP bytes quoted in an ICMP
// destination-unreachable payload.
func quotedSegment(b []byte) (quotedTCP, bool) {
	if len(b) < 1 {
		return quotedTCP{}, false
	}
	var src, dst netip.Addr
	var rest []byte
	switch b[0] >> 4 {
	case 4:
		ihl := int(b[0]&0x0f) * 4
		if ihl < 20 || len(b) < ihl+4 || b[9] != 6 {
			return quotedTCP{}, false
		}
		src = netip.AddrFrom4([4]byte(b[12:16]))
		dst = netip.AddrFrom4([4]byte(b[16:20]))
		rest = b[ihl:]
	case 6:
		if len(b) < 44 || b[6] != 6 {
			return quotedTCP{}, false
		}
		src = netip.AddrFrom16([16]byte(b[8:24]))
		dst = netip.AddrFrom16([16]byte(b[24:40]))
		rest = b[40:]
	default:
		return quotedTCP{}, false
	}
	return quotedTCP{
		src: netip.AddrPortFrom(src, binary.BigEndian.Uint16(rest[0:2])),
		dst: netip.AddrPortFrom(dst, binary.BigEndian.Uint16(rest[2:4])),
	}, true
}
