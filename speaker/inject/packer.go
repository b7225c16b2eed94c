package inject

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/peerlab/peerlab/speaker"
)

// Message sizes (RFC 4271 section 4).
const (
	// MaxMessage is the largest BGP message without the extended message
	// capability, and the size UPDATEs are packed to.
	MaxMessage = 4096
	// headerLen is the marker, length and type of every message.
	headerLen = 19
	// updateFixed is an UPDATE's header plus its two length fields.
	updateFixed = headerLen + 2 + 2
	// mpReachFixed is MP_REACH_NLRI's attribute header (extended length)
	// plus AFI, SAFI, next hop length, a 16-byte next hop and the
	// reserved byte.
	mpReachFixed = 4 + 2 + 1 + 1 + 16 + 1
	// mpUnreachFixed is MP_UNREACH_NLRI's attribute header plus AFI and SAFI.
	mpUnreachFixed = 4 + 2 + 1
)

// BGP message types.
const (
	msgOpen         = 1
	msgUpdate       = 2
	msgNotification = 3
	msgKeepalive    = 4
)

// family is the address family of a message's routes.
type family uint8

// The families the injector sends.
const (
	ipv4 family = iota
	ipv6
)

// String names f as GoBGP does.
func (f family) String() string {
	if f == ipv6 {
		return "ipv6-unicast"
	}
	return "ipv4-unicast"
}

// message is one packed BGP message of the journal.
type message struct {
	fam family
	// prefixes is how many prefixes it announces or withdraws.
	prefixes int
	b        []byte
}

// group collects the prefixes of one attribute set until they fill an
// UPDATE.
type group struct {
	fam     family
	attrs   []byte     // encoded path attributes (no MP_REACH_NLRI)
	nextHop netip.Addr // IPv6 only
	nlri    []byte
	count   int
}

// packer turns routes and withdrawals into full UPDATEs. Announcements
// are grouped by their encoded attributes; a group is emitted when the
// next prefix would not fit, and every open group by flush.
type packer struct {
	enc    encoding
	max    int
	emit   func(message)
	groups map[string]*group
	order  []*group // groups in creation order, for a stable flush
	// withdrawn holds prefixes to withdraw, per family.
	withdrawn [2][]byte
	wcount    [2]int
	key, tmp  []byte
}

// newPacker returns a packer that hands each finished message to emit.
func newPacker(enc encoding, maxMessage int, emit func(message)) *packer {
	if maxMessage <= 0 || maxMessage > MaxMessage {
		maxMessage = MaxMessage
	}
	return &packer{enc: enc, max: maxMessage, emit: emit, groups: map[string]*group{}}
}

// announce adds r to the group of its attributes.
func (p *packer) announce(r speaker.Route) error {
	if !r.Prefix.IsValid() {
		return fmt.Errorf("route %v: not a valid prefix", r.Prefix)
	}
	r.Prefix = r.Prefix.Masked()
	fam := ipv4
	var nh6 netip.Addr
	p.key = p.key[:0]
	if r.Prefix.Addr().Is6() {
		fam = ipv6
		var err error
		if nh6, err = p.enc.nextHop6For(r); err != nil {
			return err
		}
		a := nh6.As16()
		p.key = append(p.key, 6)
		p.key = append(p.key, a[:]...)
	} else {
		p.key = append(p.key, 4)
	}
	var err error
	p.key, p.tmp, err = p.enc.appendAttrs(p.key, p.tmp, r)
	if err != nil {
		return err
	}
	g, ok := p.groups[string(p.key)]
	if !ok {
		// The key is the family, the IPv6 next hop, then the attributes.
		g = &group{fam: fam, attrs: append([]byte(nil), p.key[1+16*int(fam):]...), nextHop: nh6}
		p.groups[string(p.key)] = g
		p.order = append(p.order, g)
		if overhead(g)+1+16 > p.max {
			return fmt.Errorf("route %s: its attributes do not fit in a %d-byte UPDATE", r.Prefix, p.max)
		}
	}
	need := 1 + (r.Prefix.Bits()+7)/8
	if overhead(g)+len(g.nlri)+need > p.max {
		p.emitGroup(g)
	}
	g.nlri = appendPrefix(g.nlri, r.Prefix)
	g.count++
	return nil
}

// withdraw queues pfx for withdrawal.
func (p *packer) withdraw(pfx netip.Prefix) error {
	if !pfx.IsValid() {
		return fmt.Errorf("withdraw %v: not a valid prefix", pfx)
	}
	pfx = pfx.Masked()
	fam := ipv4
	fixed := updateFixed
	if pfx.Addr().Is6() {
		fam, fixed = ipv6, updateFixed+mpUnreachFixed
	}
	need := 1 + (pfx.Bits()+7)/8
	if fixed+len(p.withdrawn[fam])+need > p.max {
		p.emitWithdrawn(fam)
	}
	p.withdrawn[fam] = appendPrefix(p.withdrawn[fam], pfx)
	p.wcount[fam]++
	return nil
}

// flush emits every partly filled message: withdrawals first, then the
// announcement groups in the order they were created. It forgets the
// groups, so the next announcement starts afresh.
func (p *packer) flush() {
	for fam := range p.withdrawn {
		p.emitWithdrawn(family(fam))
	}
	for _, g := range p.order {
		p.emitGroup(g)
	}
	clear(p.groups)
	p.order = p.order[:0]
}

// overhead is the size of g's UPDATE without its NLRI.
func overhead(g *group) int {
	if g.fam == ipv6 {
		return updateFixed + mpReachFixed + len(g.attrs)
	}
	return updateFixed + len(g.attrs)
}

// emitGroup emits g's UPDATE if it holds prefixes and empties it.
func (p *packer) emitGroup(g *group) {
	if g.count == 0 {
		return
	}
	b := make([]byte, 0, overhead(g)+len(g.nlri))
	b = appendHeader(b, msgUpdate)
	b = binary.BigEndian.AppendUint16(b, 0) // no withdrawn routes
	if g.fam == ipv6 {
		b = binary.BigEndian.AppendUint16(b, uint16(mpReachFixed+len(g.nlri)+len(g.attrs)))
		b = append(b, flagOptional|flagExtended, attrMPReach)
		b = binary.BigEndian.AppendUint16(b, uint16(mpReachFixed-4+len(g.nlri)))
		b = append(b, 0, 2, 1, 16) // AFI IPv6, SAFI unicast, next hop length
		nh := g.nextHop.As16()
		b = append(b, nh[:]...)
		b = append(b, 0) // reserved
		b = append(b, g.nlri...)
		b = append(b, g.attrs...)
	} else {
		b = binary.BigEndian.AppendUint16(b, uint16(len(g.attrs)))
		b = append(b, g.attrs...)
		b = append(b, g.nlri...)
	}
	p.emit(message{fam: g.fam, prefixes: g.count, b: setLength(b)})
	g.nlri, g.count = g.nlri[:0], 0
}

// emitWithdrawn emits the queued withdrawals of fam, if any.
func (p *packer) emitWithdrawn(fam family) {
	w := p.withdrawn[fam]
	if p.wcount[fam] == 0 {
		return
	}
	b := make([]byte, 0, updateFixed+mpUnreachFixed+len(w))
	b = appendHeader(b, msgUpdate)
	if fam == ipv6 {
		b = binary.BigEndian.AppendUint16(b, 0)
		b = binary.BigEndian.AppendUint16(b, uint16(mpUnreachFixed+len(w)))
		b = append(b, flagOptional|flagExtended, attrMPUnreach)
		b = binary.BigEndian.AppendUint16(b, uint16(3+len(w)))
		b = append(b, 0, 2, 1)
		b = append(b, w...)
	} else {
		b = binary.BigEndian.AppendUint16(b, uint16(len(w)))
		b = append(b, w...)
		b = binary.BigEndian.AppendUint16(b, 0)
	}
	p.emit(message{fam: fam, prefixes: p.wcount[fam], b: setLength(b)})
	p.withdrawn[fam], p.wcount[fam] = w[:0], 0
}

// endOfRIB is the End-of-RIB marker of fam (RFC 4724 section 2): an
// empty UPDATE for IPv4, an empty MP_UNREACH_NLRI for IPv6.
func endOfRIB(fam family) []byte {
	b := appendHeader(nil, msgUpdate)
	if fam == ipv6 {
		b = append(b, 0, 0, 0, 6, flagOptional, attrMPUnreach, 3, 0, 2, 1)
	} else {
		b = append(b, 0, 0, 0, 0)
	}
	return setLength(b)
}

// keepalive is a KEEPALIVE message.
func keepalive() []byte { return setLength(appendHeader(nil, msgKeepalive)) }

// appendHeader appends a message header with a zero length (setLength
// fills it).
func appendHeader(b []byte, typ byte) []byte {
	for range 16 {
		b = append(b, 0xff)
	}
	return append(b, 0, 0, typ)
}

// setLength writes b's length into its header and returns b.
func setLength(b []byte) []byte {
	binary.BigEndian.PutUint16(b[16:18], uint16(len(b)))
	return b
}
