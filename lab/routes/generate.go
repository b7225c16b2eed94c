package routes

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"

	"github.com/peerlab/peerlab/speaker"
)

// MaxGenerate is the most routes one generator may produce.
const MaxGenerate = 16 << 20

// MaxVariety is the most distinct attribute sets a generator may cycle
// through.
const MaxVariety = 4096

// Generator describes a generated table: Count consecutive prefixes of
// length Length carved from From, in address order.
type Generator struct {
	// Count is how many prefixes to produce (1..MaxGenerate).
	Count int
	// From is the range the prefixes are carved from; its first prefix is
	// From's address with length Length.
	From netip.Prefix
	// Length is the prefix length of every generated prefix; it must be
	// at least From's and at most 32 (IPv4) or 128 (IPv6).
	Length int
	// Variety is how many distinct attribute sets the routes cycle
	// through (0 or 1: every route carries the minimal set, which packs
	// best). Route i gets set i mod Variety; see AttributeSet.
	Variety int
	// NextHop is every route's next hop; zero leaves the speaker's default.
	NextHop netip.Addr
	// Order is the order Each yields the prefixes in: OrderAddress (also
	// ""), or OrderBIRDFIB. Route i keeps attribute set i mod Variety
	// whatever the order.
	Order string
}

// Validate reports the first problem with g.
func (g Generator) Validate() error {
	if g.Count < 1 || g.Count > MaxGenerate {
		return fmt.Errorf("count %d is out of range 1..%d", g.Count, MaxGenerate)
	}
	if !g.From.IsValid() {
		return errors.New("from: not a valid prefix")
	}
	if g.From != g.From.Masked() {
		return fmt.Errorf("from %s has host bits set", g.From)
	}
	maxLen := g.From.Addr().BitLen()
	if g.Length < g.From.Bits() || g.Length > maxLen {
		return fmt.Errorf("length %d is out of range %d..%d", g.Length, g.From.Bits(), maxLen)
	}
	if free := g.Length - g.From.Bits(); free < 31 && g.Count > 1<<free {
		return fmt.Errorf("%s holds only %d /%d prefixes, %d asked", g.From, 1<<free, g.Length, g.Count)
	}
	if g.Variety < 0 || g.Variety > MaxVariety {
		return fmt.Errorf("variety %d is out of range 0..%d", g.Variety, MaxVariety)
	}
	return g.checkOrder()
}

// Generate returns the routes g describes.
func Generate(g Generator) ([]speaker.Route, error) {
	if err := g.Validate(); err != nil {
		return nil, fmt.Errorf("generate routes: %w", err)
	}
	out := make([]speaker.Route, 0, g.Count)
	err := g.Each(func(r speaker.Route) error {
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Each calls fn with each route g describes, in g's Order, without
// holding the table: a million-route generator in address order costs no
// memory of its own (OrderBIRDFIB holds 4 bytes a route). Routes of one attribute set share their ASPath and Communities
// slices; fn must not modify them. The first error from fn stops Each
// and is returned.
func (g Generator) Each(fn func(speaker.Route) error) error {
	if err := g.Validate(); err != nil {
		return fmt.Errorf("generate routes: %w", err)
	}
	sets := max(g.Variety, 1)
	attrs := make([]speaker.Route, sets)
	for j := range attrs {
		attrs[j] = AttributeSet(j)
	}
	addr := g.From.Addr().As16()
	shift := g.From.Addr().BitLen() - g.Length
	nth := func(i int) netip.Addr { return nthAddr(g.From.Addr(), addr, uint64(i), shift) }
	var order []uint32 // nil: address order
	if g.Order == OrderBIRDFIB {
		order = birdFIBOrder(g.Count, func(i int) uint32 {
			a := nth(i).As4()
			return uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
		})
	}
	for k := range g.Count {
		i := k
		if order != nil {
			i = int(order[k])
		}
		r := attrs[i%sets]
		r.Prefix = netip.PrefixFrom(nth(i), g.Length)
		r.NextHop = g.NextHop
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

// AttributeSet returns the attributes (no prefix, no next hop) of set j.
// Set 0 is minimal: no extra AS path, no communities, no MED. Set j > 0
// carries an AS path of 1 to 4 private AS numbers, the community
// 65000:j and a MED of 10*j, so a table with variety K holds K distinct
// attribute combinations.
func AttributeSet(j int) speaker.Route {
	if j == 0 {
		return speaker.Route{}
	}
	path := make([]uint32, 1+j%4)
	for k := range path {
		path[k] = 64512 + uint32((j+k)%1000)
	}
	return speaker.Route{
		ASPath:      path,
		Communities: []string{"65000:" + strconv.Itoa(j%65536)},
		MED:         uint32(10 * j),
	}
}

// nthAddr is base plus n<<shift, as an address of base's family (the sum
// wraps within the family; Validate keeps it inside From).
func nthAddr(base netip.Addr, b16 [16]byte, n uint64, shift int) netip.Addr {
	if base.Is4() {
		v := uint32(b16[12])<<24 | uint32(b16[13])<<16 | uint32(b16[14])<<8 | uint32(b16[15])
		v += uint32(n << shift)
		return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
	}
	// 128-bit add of n<<shift, big-endian, with carry.
	var add [16]byte
	hi, lo := uint64(0), n
	if shift >= 64 {
		hi, lo = n<<(shift-64), 0
	} else if shift > 0 {
		hi, lo = n>>(64-shift), n<<shift
	}
	for k := range 8 {
		add[k] = byte(hi >> (56 - 8*k))
		add[8+k] = byte(lo >> (56 - 8*k))
	}
	carry := 0
	for k := 15; k >= 0; k-- {
		s := int(b16[k]) + int(add[k]) + carry
		b16[k] = byte(s)
		carry = s >> 8
	}
	return netip.AddrFrom16(b16)
}
