package capture

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/reassembly"
	"go.uber.org/zap"
)

// ErrUnknownFormat is returned by Decode for input that is neither pcap nor pcapng.
var ErrUnknownFormat = errors.New("unknown capture format")

// DefaultPort is the BGP port.
const DefaultPort = 179

// DefaultMaxSessions is how many sessions Decode tracks in full by default:
// far more BGP sessions than one capture of a lab or a node holds.
const DefaultMaxSessions = 10_000

// DefaultHoldTime is the hold time assumed for gap detection when no OPEN was seen.
const DefaultHoldTime = 90 * time.Second

// DecodeOptions tune Decode. The zero value decodes BGP on port 179.
type DecodeOptions struct {
	// Ports are the TCP ports carrying BGP; default {179}.
	Ports []int
	// DefaultHoldTime is used for gap detection before OPENs are seen;
	// default 90 s.
	DefaultHoldTime time.Duration
	// GoBGPUpdates parses every UPDATE with GoBGP's full parser instead of
	// the allocation-light scanner (slower; for cross-checking).
	GoBGPUpdates bool
	// Logger receives debug notes; nil means no logging.
	Logger *zap.Logger

	// Sample bounds the memory of a timeline: of each run of UPDATE and
	// KEEPALIVE messages one speaker sends between two other events of its
	// session, the first and the last Sample are stored and the ones in
	// between are replaced by one KindElided event with their counts.
	// Every message is still counted in Session.Counts. End-of-RIB
	// UPDATEs and all other events are always stored. 0 means
	// DefaultSample.
	Sample int
	// AllEvents stores every message as an event; memory then grows with
	// the capture (about 200 bytes per UPDATE).
	AllEvents bool
	// MaxSessions bounds how many sessions are decoded in full; packets of
	// sessions first seen after that many are only counted in
	// Timeline.Untracked, so a capture of many distinct peers (a SYN scan)
	// decodes in memory proportional to the file. 0 means
	// DefaultMaxSessions; a negative value means no limit.
	MaxSessions int
	// OnEvent, when set, is called with every event as it is decoded, in
	// decode order: per session, messages in capture order, a gap event
	// when the silence ends. The event and its detail are the callee's to
	// keep but must not be modified. With OnEvent the timeline keeps no
	// UPDATE or KEEPALIVE (unless AllEvents): each run becomes one elided
	// event, so memory stays bounded however long the capture. Elided
	// events are not passed to OnEvent.
	OnEvent func(Event)
}

// Flush cadence for the reassembler, in packets and capture time.
const (
	flushEveryPackets = 1 << 16
	flushGapAfter     = 30 * time.Second
	closeIdleAfter    = 10 * time.Minute
)

// Decode reads a pcap or pcapng capture from r (detected by magic),
// reassembles the TCP streams on the BGP ports, splits and decodes the BGP
// messages and returns one timeline per session. It streams the input and
// never panics on hostile bytes: undecodable messages become "malformed"
// events. A capture cut inside a record (a writer killed mid-write) is
// decoded up to that point and flagged Truncated.
func Decode(r io.Reader, opts DecodeOptions) (*Timeline, error) {
	return DecodeContext(context.Background(), r, opts)
}

// ctxCheckEvery is how many packets DecodeContext reads between two looks
// at its context.
const ctxCheckEvery = 4096

// DecodeContext is Decode that stops with ctx.Err() when ctx ends (Ctrl-C
// on a large file).
func DecodeContext(ctx context.Context, r io.Reader, opts DecodeOptions) (*Timeline, error) {
	src, err := openPacketSource(r)
	if err != nil {
		return nil, err
	}
	d := newDecoder(opts)
	d.log.Debug("decoding capture", zap.Stringer("link_type", src.LinkType()))
	link := src.LinkType()
	for {
		if d.tl.Packets%ctxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("capture: decoding stopped after %d packets: %w", d.tl.Packets, err)
			}
		}
		data, ci, err := src.ZeroCopyReadPacketData()
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			if errors.Is(err, io.ErrUnexpectedEOF) {
				d.tl.Truncated = true
				break
			}
			return nil, fmt.Errorf("capture: reading packet %d: %w", d.tl.Packets+1, err)
		}
		d.packet(link, data, ci.Timestamp)
	}
	return d.finish(), nil
}

// decoder holds the state of one Decode call.
type decoder struct {
	opts     DecodeOptions
	log      *zap.Logger
	ports    [1024]uint64 // bit set of BGP ports
	hold     time.Duration
	parser   *packetParser
	msgs     messageDecoder
	pool     *reassembly.StreamPool
	asm      *reassembly.Assembler
	sessions map[sessionKey]*sessionState
	order    []*sessionState
	// untracked holds the sessions past maxSessions: counted, not decoded.
	untracked   map[sessionKey]struct{}
	maxSessions int
	tl          Timeline
	now         time.Time
	ctx         assemblerContext
	policy      *keepPolicy
}

func newDecoder(opts DecodeOptions) *decoder {
	d := &decoder{
		opts:     opts,
		log:      opts.Logger,
		hold:     opts.DefaultHoldTime,
		parser:   newPacketParser(),
		msgs:     messageDecoder{updates: newUpdateScanner(), gobgpUpdates: opts.GoBGPUpdates},
		sessions: map[sessionKey]*sessionState{},
		policy:   newKeepPolicy(opts),

		untracked:   map[sessionKey]struct{}{},
		maxSessions: opts.MaxSessions,
	}
	if d.maxSessions == 0 {
		d.maxSessions = DefaultMaxSessions
	}
	if d.log == nil {
		d.log = zap.NewNop()
	}
	if d.hold <= 0 {
		d.hold = DefaultHoldTime
	}
	ports := opts.Ports
	if len(ports) == 0 {
		ports = []int{DefaultPort}
	}
	for _, p := range ports {
		if p > 0 && p < 65536 {
			d.ports[p>>6] |= 1 << (p & 63)
		}
	}
	d.pool = reassembly.NewStreamPool(&streamFactory{d: d})
	d.asm = reassembly.NewAssembler(d.pool)
	return d
}

func (d *decoder) isBGPPort(p layers.TCPPort) bool {
	return d.ports[p>>6]&(1<<(p&63)) != 0
}

// packet handles one captured packet.
func (d *decoder) packet(link layers.LinkType, data []byte, ts time.Time) {
	d.tl.Packets++
	if y := ts.Year(); y < 1970 || y > 9999 {
		ts = time.Unix(0, 0).UTC() // hostile or broken timestamp: keep output encodable
	}
	if d.tl.Start.IsZero() || ts.Before(d.tl.Start) {
		d.tl.Start = ts
	}
	if ts.After(d.tl.End) {
		d.tl.End = ts
	}
	d.now = ts
	pk, ok := d.parser.parse(link, data)
	if !ok {
		return
	}
	switch {
	case pk.tcp:
		d.tcpSegment(pk, ts)
	case pk.icmp4 && d.parser.icmp4.TypeCode.Type() == layers.ICMPv4TypeDestinationUnreachable:
		d.icmpUnreachable(pk, false, d.parser.icmp4.TypeCode.Code(), d.parser.icmp4.Payload, ts)
	case pk.icmp6 && d.parser.icmp6.TypeCode.Type() == layers.ICMPv6TypeDestinationUnreachable:
		if p := d.parser.icmp6.Payload; len(p) >= 4 {
			d.icmpUnreachable(pk, true, d.parser.icmp6.TypeCode.Code(), p[4:], ts)
		}
	}
	if d.tl.Packets%flushEveryPackets == 0 {
		d.asm.FlushWithOptions(reassembly.FlushOptions{T: ts.Add(-flushGapAfter), TC: ts.Add(-closeIdleAfter)})
	}
}

// tcpSegment records control events and feeds the reassembler.
func (d *decoder) tcpSegment(pk decodedPacket, ts time.Time) {
	t := &d.parser.tcp
	if !d.isBGPPort(t.SrcPort) && !d.isBGPPort(t.DstPort) {
		return
	}
	srcIP, dstIP := d.parser.addrs(pk)
	if d.skipUntracked(srcIP, dstIP) {
		return
	}
	from := netip.AddrPortFrom(srcIP, uint16(t.SrcPort))
	to := netip.AddrPortFrom(dstIP, uint16(t.DstPort))
	md5 := len(t.Options) > 0 && d.parser.hasMD5()
	var s *sessionState
	if t.SYN || t.FIN || t.RST || md5 {
		s = d.session(srcIP, dstIP)
	}
	if t.SYN {
		s.syn(from, to, t.Seq, t.ACK, md5, ts)
	}
	if md5 {
		s.md5(from, to, t.Seq, ts)
	}
	d.ctx.ts = ts
	d.asm.AssembleWithContext(d.parser.netFlow(pk), t, &d.ctx)
	if t.FIN || t.RST {
		s.finOrRST(from, to, t.Seq, t.RST, ts)
	}
}

// icmpUnreachable maps an ICMP error quoting a BGP segment to its session.
func (d *decoder) icmpUnreachable(pk decodedPacket, v6 bool, code uint8, quoted []byte, ts time.Time) {
	q, ok := quotedSegment(quoted)
	if !ok || (!d.isBGPPort(layers.TCPPort(q.src.Port())) && !d.isBGPPort(layers.TCPPort(q.dst.Port()))) {
		return
	}
	if d.skipUntracked(q.src.Addr(), q.dst.Addr()) {
		return
	}
	reporter, _ := d.parser.addrs(pk)
	typ := uint8(3)
	if v6 {
		typ = 1
	}
	s := d.session(q.src.Addr(), q.dst.Addr())
	s.add(Event{Time: ts, From: q.dst, To: q.src, Kind: KindICMPUnreachable,
		ICMP: &ICMPInfo{Reporter: reporter, V6: v6, Type: typ, Code: code, Reason: ICMPUnreachableName(v6, code)}})
}

// skipUntracked reports whether the packet between a and b belongs to a
// session past the MaxSessions limit, counting it in Timeline.Untracked.
func (d *decoder) skipUntracked(a, b netip.Addr) bool {
	if d.maxSessions < 0 {
		return false
	}
	if b.Less(a) {
		a, b = b, a
	}
	k := sessionKey{a, b}
	if _, ok := d.sessions[k]; ok {
		return false
	}
	if _, ok := d.untracked[k]; !ok {
		if len(d.sessions) < d.maxSessions {
			return false
		}
		d.untracked[k] = struct{}{}
		d.tl.Untracked.Sessions++
	}
	d.tl.Untracked.Packets++
	return true
}

// session returns the state for the unordered address pair, creating it.
func (d *decoder) session(a, b netip.Addr) *sessionState {
	if b.Less(a) {
		a, b = b, a
	}
	k := sessionKey{a, b}
	s, ok := d.sessions[k]
	if !ok {
		s = newSessionState(a, b, d.hold, d.policy)
		d.sessions[k] = s
		d.order = append(d.order, s)
	}
	return s
}

// finish flushes the reassembler, closes gap tracking and orders the output.
func (d *decoder) finish() *Timeline {
	d.asm.FlushAll()
	for _, s := range d.order {
		s.closeConn(d.tl.End)
		s.out.Events = s.events()
		d.tl.Elided += s.elided
		if len(s.out.Events) == 0 {
			continue
		}
		byTime := func(x, y Event) int { return x.Time.Compare(y.Time) }
		if !slices.IsSortedFunc(s.out.Events, byTime) {
			slices.SortStableFunc(s.out.Events, byTime)
		}
		d.tl.Messages += s.out.Counts.Total()
		d.tl.Sessions = append(d.tl.Sessions, &s.out)
	}
	slices.SortStableFunc(d.tl.Sessions, func(x, y *Session) int {
		return x.Events[0].Time.Compare(y.Events[0].Time)
	})
	if d.tl.Sessions == nil {
		d.tl.Sessions = []*Session{}
	}
	return &d.tl
}

// assemblerContext carries the packet timestamp into the reassembler.
type assemblerContext struct{ ts time.Time }

// GetCaptureInfo implements reassembly.AssemblerContext.
func (c *assemblerContext) GetCaptureInfo() gopacket.CaptureInfo {
	return gopacket.CaptureInfo{Timestamp: c.ts}
}
