package topology

import (
	"fmt"
	"net/netip"
)

// Limits of `routes:` generators, the same as lab/routes enforces.
const (
	// MaxGenerate is the most prefixes one generator may produce.
	MaxGenerate = 16 << 20
	// MaxVariety is the most attribute sets a generator may cycle through.
	MaxVariety = 4096
)

// buildRoutes converts a node's bulk route sources.
func (b *builder) buildRoutes(raw []rawRoutes, kind, path string) []RouteSource {
	if len(raw) > 0 && kind != KindGoBGP && kind != KindInjector {
		b.c.add(path, fmt.Sprintf("routes: is only supported on gobgp and injector nodes (this node is %s); use prefixes: instead", kind))
		return nil
	}
	var out []RouteSource
	for i := range raw {
		p := joinIndex(path, i)
		if rs, ok := b.buildRouteSource(&raw[i], p); ok {
			out = append(out, rs)
		}
	}
	return out
}

// buildRouteSource validates one source; ok is false when it is unusable.
func (b *builder) buildRouteSource(r *rawRoutes, path string) (RouteSource, bool) {
	rs := RouteSource{Line: b.c.index.line(path)}
	ok := true
	fail := func(field, msg string) {
		b.c.add(path+field, msg)
		ok = false
	}
	if r.NextHop != nil {
		if rs.NextHop = b.parseAddr(*r.NextHop, path+".next-hop"); !rs.NextHop.IsValid() {
			ok = false
		}
	}
	switch {
	case r.Generate.Set && r.MRT != nil:
		fail("", "give either generate: or mrt:, not both")
		return rs, false
	case r.MRT != nil:
		for _, f := range []struct {
			field string
			set   bool
		}{{".from", r.From != nil}, {".length", r.Length.Set}, {".variety", r.Variety.Set}, {".order", r.Order != nil}} {
			if f.set {
				fail(f.field, fmt.Sprintf("%s is only valid with generate:", f.field[1:]))
			}
		}
		if *r.MRT == "" {
			fail(".mrt", "mrt: needs the path of a TABLE_DUMP_V2 file")
		}
		rs.MRT = *r.MRT
		if r.Limit.Set {
			if r.Limit.in(0, MaxGenerate) {
				rs.Limit = int(r.Limit.Value)
			} else {
				fail(".limit", fmt.Sprintf("limit %s is out of range 0..%d", r.Limit.Text, MaxGenerate))
			}
		}
		return rs, ok
	case !r.Generate.Set:
		if !b.c.failedUnder(path) {
			fail("", "a route source needs generate: N (with from:) or mrt: FILE")
		}
		return rs, false
	}
	if r.Limit.Set {
		fail(".limit", "limit is only valid with mrt:")
	}
	if !r.Generate.in(1, MaxGenerate) {
		fail(".generate", fmt.Sprintf("generate %s is out of range 1..%d", r.Generate.Text, MaxGenerate))
	} else {
		rs.Generate = int(r.Generate.Value)
	}
	if r.From == nil {
		fail(".from", "from: is required with generate: (the range to carve prefixes from, e.g. 10.0.0.0/8)")
		return rs, false
	}
	if rs.From = b.parsePrefix(*r.From, path+".from"); !rs.From.IsValid() {
		return rs, false
	}
	maxLen := rs.From.Addr().BitLen()
	rs.Length = 24
	if rs.From.Addr().Is6() {
		rs.Length = 64
	}
	if r.Length.Set {
		if !r.Length.in(int64(rs.From.Bits()), int64(maxLen)) {
			fail(".length", fmt.Sprintf("length %s is out of range %d..%d for %s", r.Length.Text, rs.From.Bits(), maxLen, rs.From))
			return rs, false
		}
		rs.Length = int(r.Length.Value)
	} else if rs.Length < rs.From.Bits() {
		rs.Length = rs.From.Bits()
	}
	if free := rs.Length - rs.From.Bits(); ok && free < 31 && rs.Generate > 1<<free {
		fail(".generate", fmt.Sprintf("%s holds only %d /%d prefixes, %d asked", rs.From, 1<<free, rs.Length, rs.Generate))
	}
	if r.Variety.Set {
		if r.Variety.in(0, MaxVariety) {
			rs.Variety = int(r.Variety.Value)
		} else {
			fail(".variety", fmt.Sprintf("variety %s is out of range 0..%d", r.Variety.Text, MaxVariety))
		}
	}
	if r.Order != nil {
		switch *r.Order {
		case "address":
		case "bird-fib":
			if !rs.From.Addr().Is4() {
				fail(".order", "order bird-fib is for IPv4 tables only")
			}
		default:
			fail(".order", fmt.Sprintf("unknown order %q (known: address, bird-fib)", *r.Order))
		}
		rs.Order = *r.Order
	}
	return rs, ok
}

// GeneratedPrefix reports whether p is one of the prefixes source rs
// generates (false for MRT sources).
func (rs RouteSource) GeneratedPrefix(p netip.Prefix) bool {
	return rs.Generate > 0 && p.Bits() == rs.Length && rs.From.Contains(p.Addr())
}
