package capture

import (
	"encoding/binary"
	"net/netip"
)

// Frame offsets and protocol numbers used by the in-process filter.
const (
	etherTypeIPv4 = 0x0800
	etherTypeIPv6 = 0x86dd
	etherTypeVLAN = 0x8100
	etherTypeQinQ = 0x88a8
	protoICMP     = 1
	protoTCP      = 6
	protoICMPv6   = 58
)

// portFilter keeps Ethernet frames carrying TCP to or from one of its
// ports, and ICMP/ICMPv6 destination-unreachable messages. With networks,
// it keeps only packets whose source or destination address is in one of
// them. It decides in-process from the raw frame, with no BPF program to
// compile.
type portFilter struct {
	ports    [1024]uint64
	networks []netip.Prefix
}

// newPortFilter builds a filter; no ports means port 179, no networks
// means any address.
func newPortFilter(ports []int, networks ...netip.Prefix) *portFilter {
	f := &portFilter{}
	for _, n := range networks {
		if n.IsValid() {
			f.networks = append(f.networks, n.Masked())
		}
	}
	if len(ports) == 0 {
		ports = []int{DefaultPort}
	}
	for _, p := range ports {
		if p > 0 && p < 65536 {
			f.ports[p>>6] |= 1 << (p & 63)
		}
	}
	return f
}

func (f *portFilter) has(p uint16) bool { return f.ports[p>>6]&(1<<(p&63)) != 0 }

// keep reports whether an Ethernet frame passes the filter.
func (f *portFilter) keep(frame []byte) bool {
	if len(frame) < 14 {
		return false
	}
	et := binary.BigEndian.Uint16(frame[12:14])
	off := 14
	for (et == etherTypeVLAN || et == etherTypeQinQ) && len(frame) >= off+4 {
		et = binary.BigEndian.Uint16(frame[off+2 : off+4])
		off += 4
	}
	b := frame[off:]
	switch et {
	case etherTypeIPv4:
		if len(b) < 20 || b[0]>>4 != 4 {
			return false
		}
		ihl := int(b[0]&0x0f) * 4
		if ihl < 20 || len(b) < ihl {
			return false
		}
		if binary.BigEndian.Uint16(b[6:8])&0x1fff != 0 {
			return false // a non-first fragment has no transport header
		}
		if !f.addressed(netip.AddrFrom4([4]byte(b[12:16])), netip.AddrFrom4([4]byte(b[16:20]))) {
			return false
		}
		return f.transport(b[9], b[ihl:], 3)
	case etherTypeIPv6:
		if len(b) < 40 || b[0]>>4 != 6 {
			return false
		}
		if !f.addressed(netip.AddrFrom16([16]byte(b[8:24])), netip.AddrFrom16([16]byte(b[24:40]))) {
			return false
		}
		return f.transport(b[6], b[40:], 1)
	}
	return false
}

// addressed reports whether src or dst is in one of the filter's
// networks; with no networks every address is.
func (f *portFilter) addressed(src, dst netip.Addr) bool {
	if len(f.networks) == 0 {
		return true
	}
	for _, n := range f.networks {
		if n.Contains(src) || n.Contains(dst) {
			return true
		}
	}
	return false
}

// transport applies the port and ICMP rules to a transport header.
func (f *portFilter) transport(proto byte, b []byte, unreachType byte) bool {
	switch proto {
	case protoTCP:
		if len(b) < 4 {
			return false
		}
		return f.has(binary.BigEndian.Uint16(b[0:2])) || f.has(binary.BigEndian.Uint16(b[2:4]))
	case protoICMP:
		return unreachType == 3 && len(b) >= 1 && b[0] == 3
	case protoICMPv6:
		return unreachType == 1 && len(b) >= 1 && b[0] == 1
	}
	return false
}
