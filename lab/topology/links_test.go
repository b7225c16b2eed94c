package topology

import (
	"net/netip"
	"strings"
	"testing"
)

func TestLinks(t *testing.T) {
	tests := []struct {
		name  string
		links string // items of the links list, one per line
		err   string // "" when valid
	}{
		{"ipv4 /30", "{between: [a, b], addresses: {a: 10.1.0.1/30, b: 10.1.0.2/30}}", ""},
		{"ipv4 /31 uses both addresses", "{between: [a, b], addresses: {a: 10.1.0.0/31, b: 10.1.0.1/31}}", ""},
		{"ipv6 /127", `{between: [a, b], addresses: {a: "fd00::/127", b: "fd00::1/127"}}`, ""},
		{"two links between one pair", "{between: [a, b], addresses: {a: 10.1.0.1/30, b: 10.1.0.2/30}}\n  - {between: [b, a], addresses: {a: 10.1.0.5/30, b: 10.1.0.6/30}}", ""},
		{"order of addresses does not matter", "{between: [a, b], addresses: {b: 10.1.0.2/30, a: 10.1.0.1/30}}", ""},
		{"different prefix lengths", "{between: [a, b], addresses: {a: 10.1.0.1/30, b: 10.1.0.2/29}}",
			"links[0].addresses.b: 10.1.0.2/29 is not in the same subnet as a's 10.1.0.1/30"},
		{"same address twice", "{between: [a, b], addresses: {a: 10.1.0.1/30, b: 10.1.0.1/30}}",
			"links[0].addresses.b: 10.1.0.1/30 has the same address as a's end"},
		{"address used by an earlier link", "{between: [a, b], addresses: {a: 10.1.0.1/30, b: 10.1.0.2/30}}\n  - {between: [a, c], addresses: {a: 10.1.0.1/30, c: 10.1.0.2/30}}",
			"links[1].addresses.a: address 10.1.0.1 is already used by links[0].addresses.a"},
		{"subnets overlap", "{between: [a, b], addresses: {a: 10.1.0.1/30, b: 10.1.0.2/30}}\n  - {between: [a, c], addresses: {a: 10.1.0.5/29, c: 10.1.0.6/29}}",
			"links[1].addresses: subnet 10.1.0.0/29 overlaps the subnet 10.1.0.0/30 of links[0]"},
		{"node address", "{between: [a, b], addresses: {a: 10.0.0.3/29, b: 10.0.0.2/29}}", "links[0].addresses.a: address 10.0.0.3 is node c's address"},
		{"subnet holds a node", "{between: [a, b], addresses: {a: 10.0.0.9/24, b: 10.0.0.10/24}}", "subnet 10.0.0.0/24 holds node a's address 10.0.0.1"},
		{"three nodes", "{between: [a, b, c], addresses: {a: 10.1.0.1/30, b: 10.1.0.2/30}}", "a link joins exactly 2 nodes, got 3"},
		{"zone", `{between: [a, b], addresses: {a: "fe80::1%eth0/64", b: "fe80::2/64"}}`, "is not an interface address"},
		{"mapped ipv4", `{between: [a, b], addresses: {a: "::ffff:10.1.0.1/126", b: "::ffff:10.1.0.2/126"}}`, "write IPv4-mapped addresses as plain IPv4"},
		{"multicast", "{between: [a, b], addresses: {a: 224.0.0.1/30, b: 224.0.0.2/30}}", "224.0.0.1/30 is not a unicast address"},
		{"missing end", "{between: [a, b], addresses: {a: 10.1.0.1/30}}", "links[0].addresses.b: the address of b's end is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "name: l\nnodes:\n  a: {address: 10.0.0.1}\n  b: {address: 10.0.0.2}\n  c: {address: 10.0.0.3}\nlinks:\n  - " + tt.links + "\n"
			topo, err := Parse("l.yaml", []byte(src))
			switch {
			case tt.err == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Errorf("error %v, want one containing %q", err, tt.err)
			case err == nil:
				for _, l := range topo.Links {
					if l.AAddr.Masked() != l.BAddr.Masked() || l.AAddr.Addr() == l.BAddr.Addr() {
						t.Errorf("link %+v: ends not in one subnet or equal", l)
					}
				}
			}
		})
	}
}

func TestLastAddr(t *testing.T) {
	for in, want := range map[string]string{
		"10.1.0.1/30":   "10.1.0.3",
		"10.0.0.0/8":    "10.255.255.255",
		"192.0.2.7/32":  "192.0.2.7",
		"fd00::5/126":   "fd00::7",
		"10.1.0.200/25": "10.1.0.255",
	} {
		if got := lastAddr(netip.MustParsePrefix(in)); got.String() != want {
			t.Errorf("lastAddr(%s) = %s, want %s", in, got, want)
		}
	}
}
