package routes

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func TestGenerate(t *testing.T) {
	tests := []struct {
		name       string
		g          Generator
		wantFirst  string
		wantLast   string
		wantCount  int
		wantDistin int // distinct MEDs: one per attribute set
	}{
		{"ipv4 /24", Generator{Count: 10000, From: netip.MustParsePrefix("10.0.0.0/8"), Length: 24}, "10.0.0.0/24", "10.39.15.0/24", 10000, 1},
		{"ipv4 full range", Generator{Count: 256, From: netip.MustParsePrefix("192.168.0.0/16"), Length: 24, Variety: 8}, "192.168.0.0/24", "192.168.255.0/24", 256, 8},
		{"ipv4 /32 carry", Generator{Count: 300, From: netip.MustParsePrefix("172.16.0.0/12"), Length: 32}, "172.16.0.0/32", "172.16.1.43/32", 300, 1},
		{"ipv6 /48", Generator{Count: 70000, From: netip.MustParsePrefix("2001:db0::/28"), Length: 48, Variety: 3}, "2001:db0::/48", "2001:db1:116f::/48", 70000, 3},
		{"ipv6 /64 crossing a 64-bit boundary", Generator{Count: 2, From: netip.MustParsePrefix("2001:db8:0:ffff::/63"), Length: 64}, "2001:db8:0:fffe::/64", "2001:db8:0:ffff::/64", 2, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.g.From = tt.g.From.Masked()
			got, err := Generate(tt.g)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.wantCount {
				t.Fatalf("len = %d, want %d", len(got), tt.wantCount)
			}
			if s := got[0].Prefix.String(); s != tt.wantFirst {
				t.Errorf("first = %s, want %s", s, tt.wantFirst)
			}
			if s := got[len(got)-1].Prefix.String(); s != tt.wantLast {
				t.Errorf("last = %s, want %s", s, tt.wantLast)
			}
			seen := map[netip.Prefix]bool{}
			meds := map[uint32]bool{}
			for _, r := range got {
				if seen[r.Prefix] {
					t.Fatalf("duplicate prefix %s", r.Prefix)
				}
				if !tt.g.From.Contains(r.Prefix.Addr()) || r.Prefix.Bits() != tt.g.Length {
					t.Fatalf("prefix %s outside %s or not /%d", r.Prefix, tt.g.From, tt.g.Length)
				}
				seen[r.Prefix] = true
				meds[r.MED] = true
			}
			if len(meds) != tt.wantDistin {
				t.Errorf("distinct attribute sets = %d, want %d", len(meds), tt.wantDistin)
			}
		})
	}
}

func TestGenerateRejects(t *testing.T) {
	tests := []struct {
		name string
		g    Generator
		want string
	}{
		{"zero count", Generator{From: netip.MustParsePrefix("10.0.0.0/8"), Length: 24}, "count 0 is out of range"},
		{"too many", Generator{Count: 257, From: netip.MustParsePrefix("10.0.0.0/16"), Length: 24}, "holds only 256 /24 prefixes, 257 asked"},
		{"length shorter than range", Generator{Count: 1, From: netip.MustParsePrefix("10.0.0.0/16"), Length: 8}, "length 8 is out of range 16..32"},
		{"length past family", Generator{Count: 1, From: netip.MustParsePrefix("10.0.0.0/16"), Length: 33}, "length 33 is out of range 16..32"},
		{"host bits", Generator{Count: 1, From: netip.MustParsePrefix("10.0.0.1/16"), Length: 24}, "host bits"},
		{"no range", Generator{Count: 1, Length: 24}, "from: not a valid prefix"},
		{"variety", Generator{Count: 1, From: netip.MustParsePrefix("10.0.0.0/8"), Length: 24, Variety: MaxVariety + 1}, "variety"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Generate(tt.g)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestAttributeSet(t *testing.T) {
	if r := AttributeSet(0); r.ASPath != nil || r.Communities != nil || r.MED != 0 {
		t.Errorf("set 0 = %+v, want minimal", r)
	}
	r := AttributeSet(5)
	if !slices.Equal(r.ASPath, []uint32{64517, 64518}) || !slices.Equal(r.Communities, []string{"65000:5"}) || r.MED != 50 {
		t.Errorf("set 5 = %+v", r)
	}
}

func TestGenerateSharesAttributes(t *testing.T) {
	got, err := Generate(Generator{Count: 100, From: netip.MustParsePrefix("10.0.0.0/8"), Length: 24, Variety: 4})
	if err != nil {
		t.Fatal(err)
	}
	// Routes of one set share their AS path's backing array.
	if &got[1].ASPath[0] != &got[5].ASPath[0] {
		t.Error("routes 1 and 5 (set 1) do not share their AS path")
	}
}

func BenchmarkGenerate1M(b *testing.B) {
	g := Generator{Count: 1 << 20, From: netip.MustParsePrefix("16.0.0.0/4"), Length: 24, Variety: 16}
	for b.Loop() {
		if _, err := Generate(g); err != nil {
			b.Fatal(err)
		}
	}
}

func TestGenerateBIRDFIBOrder(t *testing.T) {
	g := Generator{Count: 70000, From: netip.MustParsePrefix("16.0.0.0/4"), Length: 24, Variety: 3, Order: OrderBIRDFIB}
	got, err := Generate(g)
	if err != nil {
		t.Fatal(err)
	}
	byAddr, err := Generate(Generator{Count: g.Count, From: g.From, Length: g.Length, Variety: g.Variety})
	if err != nil {
		t.Fatal(err)
	}
	// The same routes (prefix and attribute set), in another order.
	want := map[netip.Prefix]string{}
	for _, r := range byAddr {
		want[r.Prefix] = fmt.Sprint(r.ASPath, r.Communities, r.MED)
	}
	if len(got) != len(byAddr) {
		t.Fatalf("%d routes, want %d", len(got), len(byAddr))
	}
	for _, r := range got {
		if w, ok := want[r.Prefix]; !ok || w != fmt.Sprint(r.ASPath, r.Communities, r.MED) {
			t.Fatalf("route %s: attributes %v, want %q (present %v)", r.Prefix, fmt.Sprint(r.ASPath, r.Communities, r.MED), w, ok)
		}
		delete(want, r.Prefix)
	}
	// BIRD 1.6 hashes an IPv4 address a as ((a ^ a>>16) ^ (a ^ a>>16)<<10) & 0xffff:
	// 16.0.16.0 hashes to 0 and comes first; hashes never decrease; ties
	// stay in address order.
	if first := got[0].Prefix.String(); first != "16.0.16.0/24" {
		t.Errorf("first prefix %s, want 16.0.16.0/24", first)
	}
	key := func(p netip.Prefix) uint32 {
		a := p.Addr().As4()
		return birdFIBHash(uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3]))
	}
	for i := 1; i < len(got); i++ {
		h0, h1 := key(got[i-1].Prefix), key(got[i].Prefix)
		if h1 < h0 || h1 == h0 && got[i].Prefix.Addr().Less(got[i-1].Prefix.Addr()) {
			t.Fatalf("routes %d and %d (%s hash %d, %s hash %d) are out of order", i-1, i, got[i-1].Prefix, h0, got[i].Prefix, h1)
		}
	}
}

func TestGenerateOrderErrors(t *testing.T) {
	tests := []struct {
		name string
		g    Generator
		want string
	}{
		{"unknown order", Generator{Count: 1, From: netip.MustParsePrefix("10.0.0.0/8"), Length: 24, Order: "random"}, `order "random" is not one of`},
		{"bird-fib on ipv6", Generator{Count: 1, From: netip.MustParsePrefix("2001:db8::/32"), Length: 48, Order: OrderBIRDFIB}, "IPv4 tables only"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.g.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate() = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
