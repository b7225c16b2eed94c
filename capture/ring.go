package capture

import (
	"fmt"
	"time"

	"github.com/gopacket/gopacket/afpacket"
)

// The capture socket's ring (TPACKET_V3) is made of RingBlockSize blocks
// that the kernel fills and the capture drains; DefaultRingSize (four
// blocks) holds a burst of about 4 MB of BGP (a million /24s arriving in
// a tenth of a second) while the writer catches up, where a plain
// AF_PACKET socket's default 208 KiB receive buffer drops segments.
const (
	RingBlockSize   = 1 << 20
	DefaultRingSize = 4 * RingBlockSize
)

// ringPoll is how long one read waits before it checks whether the
// capture is stopping.
const ringPoll = 50 * time.Millisecond

// openRing opens the capture socket on the interface called name, in the
// caller's network namespace, with a ring of size bytes (rounded up to
// whole blocks; 0 means DefaultRingSize).
func openRing(name string, size int64) (*afpacket.TPacket, error) {
	if size <= 0 {
		size = DefaultRingSize
	}
	blocks := int((size + RingBlockSize - 1) / RingBlockSize)
	h, err := afpacket.NewTPacket(
		afpacket.OptInterface(name),
		afpacket.OptTPacketVersion(afpacket.TPacketVersion3),
		afpacket.OptBlockSize(RingBlockSize),
		afpacket.OptNumBlocks(blocks),
		afpacket.OptBlockTimeout(10*time.Millisecond),
		afpacket.OptPollTimeout(ringPoll),
	)
	if err != nil {
		return nil, fmt.Errorf("capture: open %s: %w", name, err)
	}
	return h, nil
}

// drops returns how many frames the kernel dropped because the ring was
// full, since the socket was opened.
func drops(h *afpacket.TPacket) (int64, error) {
	_, v3, err := h.SocketStats()
	if err != nil {
		return 0, fmt.Errorf("capture: socket statistics: %w", err)
	}
	return int64(v3.Drops()), nil
}
