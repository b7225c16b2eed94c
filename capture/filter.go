package capture

import "encoding/binary"

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
// ports, and ICMP/ICMPv6 destination-unreachable messages. It decides
// in-process from the raw frame, with no BPF program to compile.
type portFilter struct {
	ports [1024]uint64
}

// newPortFilter builds a filter; no ports means port 179.
func newPortFilter(ports []int) *portFilter {
	f := &portFilter{}
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
		return f.transport(b[9], b[ihl:], 3)
	case etherTypeIPv6:
		if len(b) < 40 || b[0]>>4 != 6 {
			return false
		}
		return f.transport(b[6], b[40:], 1)
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
