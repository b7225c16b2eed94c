package routes

import (
	"fmt"
	"slices"
)

// Orders a generator can send its prefixes in.
const (
	// OrderAddress is ascending address order (the default).
	OrderAddress = "address"
	// OrderBIRDFIB is the order in which BIRD 1.6 walks its routing table,
	// and so the order a BIRD 1.6 upstream sends the same table: by the
	// 16-bit hash of the IPv4 address that keys BIRD 1.6's FIB, ties in
	// address order. A BIRD receiver inserts a large table in this order
	// markedly faster (its hash chains are then filled one after the
	// other); docs/injection.md has the figures. IPv4 only.
	OrderBIRDFIB = "bird-fib"
)

// Orders lists the valid values of Generator.Order.
var Orders = []string{OrderAddress, OrderBIRDFIB}

// checkOrder reports an order Generator does not know or cannot apply.
func (g Generator) checkOrder() error {
	switch g.Order {
	case "", OrderAddress:
		return nil
	case OrderBIRDFIB:
		if !g.From.Addr().Is4() {
			return fmt.Errorf("order %s is for IPv4 tables only", OrderBIRDFIB)
		}
		return nil
	}
	return fmt.Errorf("order %q is not one of %v", g.Order, Orders)
}

// birdFIBHash is BIRD 1.6's hash of an IPv4 address (16 bits).
func birdFIBHash(a uint32) uint32 {
	a ^= a >> 16
	a ^= a << 10
	return a & 0xffff
}

// birdFIBOrder returns the indices 0..count-1 of a generated IPv4 table,
// sorted as BIRD 1.6 walks them: addr(i) is the i-th prefix's address.
func birdFIBOrder(count int, addr func(i int) uint32) []uint32 {
	// Index below 2^24 (MaxGenerate), hash in the bits above: one sort of
	// integers gives hash order with ties in index (address) order.
	keys := make([]uint64, count)
	for i := range keys {
		keys[i] = uint64(birdFIBHash(addr(i)))<<32 | uint64(i)
	}
	slices.Sort(keys)
	out := make([]uint32, count)
	for i, k := range keys {
		out[i] = uint32(k)
	}
	return out
}
