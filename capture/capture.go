package capture

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopacket/gopacket/afpacket"
	"go.uber.org/zap"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// DefaultFlushInterval bounds how long a captured packet may sit in the
// write buffer; a capture killed with SIGKILL is readable up to the last flush.
const DefaultFlushInterval = 50 * time.Millisecond

// Options configure a live capture.
type Options struct {
	// Interface is the name of the interface to capture on, in the
	// caller's current network namespace ("lo" works).
	Interface string
	// Ports are the TCP ports to keep; default {179}. ICMP and ICMPv6
	// destination-unreachable messages are always kept.
	Ports []int
	// Networks, when set, narrow the capture to packets whose source or
	// destination address is in one of them (for example one lab's
	// 127.A.0.0/16 on a shared "lo").
	Networks []netip.Prefix
	// Promiscuous puts the interface in promiscuous mode for the life of
	// the capture. A Linux bridge needs it to show the frames it forwards
	// between its ports, not only those addressed to the bridge itself.
	Promiscuous bool
	// Path is the pcapng file to write.
	Path string
	// MaxBytes rotates to Path.1.pcapng, Path.2.pcapng... when a file
	// would grow past it; 0 means no limit.
	MaxBytes int64
	// RingSize is the capture socket's ring in bytes, rounded up to whole
	// RingBlockSize blocks; 0 means DefaultRingSize.
	RingSize int64
	// FlushInterval is how often buffered packets are flushed; default
	// 50 ms, at most 100 ms is honoured.
	FlushInterval time.Duration
	// Logger receives capture lifecycle logs; nil means none.
	Logger *zap.Logger
}

// Stats are counters of a running or stopped capture.
type Stats struct {
	// Seen is the number of frames read from the interface.
	Seen int64
	// Kept is the number of frames that passed the filter and were written.
	Kept int64
	// Bytes is the number of bytes written to capture files.
	Bytes int64
	// Files is the number of files written (1 + rotations).
	Files int
	// Dropped is the number of frames the kernel dropped because the
	// capture's ring was full: the files then have gaps.
	Dropped int64
}

// Capture is a running live capture. Stop it to finish the files.
type Capture struct {
	opts   Options
	log    *zap.Logger
	handle *afpacket.TPacket
	filter *portFilter

	mu    sync.Mutex // guards w and dirty
	w     *rotatingWriter
	dirty bool

	seen, kept atomic.Int64
	dropped    atomic.Int64 // read from the socket at Stop and by Stats
	stopping   atomic.Bool
	stopOnce   sync.Once
	stopErr    error
	loopErr    error
	done       chan struct{}
	quit       chan struct{}
}

// Start opens an AF_PACKET socket on opts.Interface and writes the frames
// that pass the port filter to opts.Path until Stop is called or ctx ends.
// It needs CAP_NET_RAW.
func Start(ctx context.Context, opts Options) (*Capture, error) {
	if opts.Interface == "" || opts.Path == "" {
		return nil, errors.New("capture: Interface and Path are required")
	}
	if opts.FlushInterval <= 0 || opts.FlushInterval > 100*time.Millisecond {
		opts.FlushInterval = DefaultFlushInterval
	}
	log := opts.Logger
	if log == nil {
		log = zap.NewNop()
	}
	log = log.With(zap.String("interface", opts.Interface), zap.String("path", opts.Path))
	h, err := openRing(opts.Interface, opts.RingSize)
	if err != nil {
		return nil, err
	}
	if err := dropOutgoingOnLoopback(h, opts.Interface); err != nil {
		h.Close()
		return nil, err
	}
	if opts.Promiscuous {
		if err := h.SetPromiscuous(true); err != nil {
			h.Close()
			return nil, fmt.Errorf("capture: promiscuous mode on %s: %w", opts.Interface, err)
		}
	}
	w, err := newRotatingWriter(opts.Path, opts.Interface, opts.MaxBytes)
	if err != nil {
		h.Close()
		return nil, err
	}
	c := &Capture{
		opts: opts, log: log, handle: h, filter: newPortFilter(opts.Ports, opts.Networks...), w: w,
		done: make(chan struct{}), quit: make(chan struct{}),
	}
	go c.readLoop()
	go c.flushLoop(ctx)
	log.Info("capture started", zap.Ints("ports", opts.Ports), zap.Stringers("networks", opts.Networks))
	return c, nil
}

// dropOutgoingOnLoopback attaches a four-instruction socket filter on a
// loopback interface so each packet is seen once: AF_PACKET reports
// loopback traffic both as sent and as received (libpcap drops the
// outgoing copy the same way).
func dropOutgoingOnLoopback(h *afpacket.TPacket, name string) error {
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		return fmt.Errorf("capture: interface %s: %w", name, err)
	}
	if ifi.Flags&net.FlagLoopback == 0 {
		return nil
	}
	prog, err := bpf.Assemble([]bpf.Instruction{
		bpf.LoadExtension{Num: bpf.ExtType},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.PACKET_OUTGOING, SkipTrue: 1},
		bpf.RetConstant{Val: 262144},
		bpf.RetConstant{Val: 0},
	})
	if err != nil {
		return fmt.Errorf("capture: assemble loopback filter: %w", err)
	}
	if err := h.SetBPF(prog); err != nil {
		return fmt.Errorf("capture: attach loopback filter on %s: %w", name, err)
	}
	return nil
}

// readLoop reads frames until the capture is stopping (each read waits
// at most ringPoll). The frame's bytes live in the ring until the next
// read, so they are written out before it.
func (c *Capture) readLoop() {
	defer close(c.done)
	for {
		if c.stopping.Load() {
			return
		}
		data, ci, err := c.handle.ZeroCopyReadPacketData()
		if errors.Is(err, afpacket.ErrTimeout) {
			continue
		}
		if err != nil {
			if !c.stopping.Load() {
				c.loopErr = fmt.Errorf("capture: read from %s: %w", c.opts.Interface, err)
				c.log.Error("capture read failed", zap.Error(err))
			}
			return
		}
		c.seen.Add(1)
		if !c.filter.keep(data) {
			continue
		}
		c.mu.Lock()
		err = c.w.write(ci, data)
		c.dirty = true
		c.mu.Unlock()
		if err != nil {
			c.loopErr = err
			c.log.Error("capture write failed", zap.Error(err))
			return
		}
		c.kept.Add(1)
	}
}

// flushLoop flushes buffered packets every FlushInterval and stops the
// capture when ctx ends.
func (c *Capture) flushLoop(ctx context.Context) {
	t := time.NewTicker(c.opts.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			c.mu.Lock()
			if c.dirty {
				if err := c.w.flush(); err != nil {
					c.log.Error("capture flush failed", zap.Error(err))
				}
				c.dirty = false
			}
			c.mu.Unlock()
		case <-ctx.Done():
			_ = c.Stop()
			return
		case <-c.quit:
			return
		}
	}
}

// Stop ends the capture, flushes and closes the files. It is safe to call
// more than once; later calls return the first result.
func (c *Capture) Stop() error {
	c.stopOnce.Do(func() {
		c.stopping.Store(true)
		close(c.quit)
		<-c.done // the read loop sees stopping within ringPoll
		c.readDrops()
		c.handle.Close()
		c.mu.Lock()
		werr := c.w.close()
		c.mu.Unlock()
		c.stopErr = errors.Join(c.loopErr, werr)
		st := c.Stats()
		c.log.Info("capture stopped", zap.Int64("seen", st.Seen), zap.Int64("kept", st.Kept), zap.Int64("bytes", st.Bytes),
			zap.Int("files", st.Files), zap.Int64("dropped", st.Dropped))
	})
	return c.stopErr
}

// Stats returns the capture's counters so far.
func (c *Capture) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.stopping.Load() {
		c.readDrops()
	}
	return Stats{Seen: c.seen.Load(), Kept: c.kept.Load(), Bytes: c.w.written(), Files: c.w.index + 1, Dropped: c.dropped.Load()}
}

// readDrops records the socket's drop count; the socket must be open.
func (c *Capture) readDrops() {
	if n, err := drops(c.handle); err == nil {
		c.dropped.Store(n)
	}
}

// Files returns the paths written so far, in order.
func (c *Capture) Files() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, c.w.index+1)
	for i := 0; i <= c.w.index; i++ {
		out = append(out, RotatedPath(c.opts.Path, i))
	}
	return out
}
