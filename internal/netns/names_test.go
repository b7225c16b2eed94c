package netns

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
)

func TestValidateLabName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"calico", true},
		{"calico-mesh", true},
		{"a1-b2", true},
		{"a.b_c-1", false}, // the topology loader refuses it: one rule for both
		{strings.Repeat("x", 32), true},
		{strings.Repeat("x", 33), false},
		{"Upper", false},
		{"", false},
		{"-lead", false},
		{"trail-", false},
		{"dou--ble", false},
		{"sla/sh", false},
		{"sp ace", false},
		{"tilde~", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateLabName(tt.name)
			if (err == nil) != tt.ok {
				t.Fatalf("ValidateLabName(%q) = %v, want ok=%t", tt.name, err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidSpec) {
				t.Fatalf("error %v does not wrap ErrInvalidSpec", err)
			}
		})
	}
}

func TestNamespaceNames(t *testing.T) {
	long := strings.Repeat("n", 63)
	tests := []struct {
		lab, node, want string
	}{
		{"lab", "r1", "plab-lab--r1"},
		{"calico-mesh", "worker-1", "plab-calico-mesh--worker-1"},
		{strings.Repeat("l", 32), long, "plab-" + strings.Repeat("l", 32) + "--" + long[:16] + "~" + shortHash(strings.Repeat("l", 32), long)},
	}
	for _, tt := range tests {
		t.Run(tt.node, func(t *testing.T) {
			got := NodeNamespace(tt.lab, tt.node)
			if got != tt.want {
				t.Fatalf("NodeNamespace(%q, %q) = %q, want %q", tt.lab, tt.node, got, tt.want)
			}
			if len(got) > maxNamespaceName {
				t.Fatalf("%q is %d bytes, over %d", got, len(got), maxNamespaceName)
			}
			lab, node, ok := parseNamespace(got)
			if !ok || lab != tt.lab || node == "" {
				t.Fatalf("parseNamespace(%q) = %q, %q, %t", got, lab, node, ok)
			}
		})
	}
	// Two long names sharing their first bytes must still differ.
	if a, b := NodeNamespace("l", long[:62]+"x"), NodeNamespace("l", long[:62]+"y"); a == b {
		t.Fatalf("long node names collide: %q", a)
	}
}

func TestBelongsTo(t *testing.T) {
	tests := []struct {
		ns, lab string
		want    bool
	}{
		{"plab-calico", "calico", true},
		{"plab-calico--r1", "calico", true},
		{"plab-calico-mesh", "calico", false},
		{"plab-calico-mesh--r1", "calico", false},
		{"plab-calico-mesh--r1", "calico-mesh", true},
		{"plab-calico--mesh--r1", "calico", true}, // node "mesh--r1" of lab calico
		{"plab-calico", "", true},
		{"plab-", "", false},
		{"plab---x", "", false},
		{"cni-1234", "", false},
		{"plabcalico", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.ns+"/"+tt.lab, func(t *testing.T) {
			if got := belongsTo(tt.ns, tt.lab); got != tt.want {
				t.Fatalf("belongsTo(%q, %q) = %t, want %t", tt.ns, tt.lab, got, tt.want)
			}
		})
	}
}

func TestInterfaceNames(t *testing.T) {
	tests := []struct {
		peer string
		n    int
		want string
	}{
		{"r2", 0, "p-r2"},
		{"r2", 1, "p-r2.1"},
		{"worker-12345", 0, "p-worker-12345"},
		{"worker-123456", 0, "p-worker-123456"},
		{"worker-1234567", 0, "p-work~" + shortHash("worker-1234567", "0")},
		{"worker-12345", 3, "p-work~" + shortHash("worker-12345", "3")},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s.%d", tt.peer, tt.n), func(t *testing.T) {
			got := linkIfName(tt.peer, tt.n)
			if got != tt.want {
				t.Fatalf("linkIfName(%q, %d) = %q, want %q", tt.peer, tt.n, got, tt.want)
			}
			if why := validIfName(got); why != "" {
				t.Fatalf("%q %s", got, why)
			}
		})
	}
	if got := hubIfName("lab", strings.Repeat("n", 63)); len(got) != 9 || validIfName(got) != "" {
		t.Fatalf("hubIfName = %q, want v + 8 hex", got)
	}
}

func TestValidateSpec(t *testing.T) {
	pfx := netip.MustParsePrefix
	node := func(name string, addrs ...string) NodeSpec {
		n := NodeSpec{Name: name}
		for _, a := range addrs {
			n.Addresses = append(n.Addresses, pfx(a))
		}
		return n
	}
	tests := []struct {
		name string
		spec LabSpec
		want string // substring of the error; "" means valid
	}{
		{"valid", LabSpec{Name: "l", Nodes: []NodeSpec{node("a", "10.0.0.1/24"), node("b", "10.0.0.2/24")},
			Links: []LinkSpec{{A: "a", B: "b"}, {A: "b", B: "a", AAddr: pfx("10.1.0.0/31"), BAddr: pfx("10.1.0.1/31")}}}, ""},
		{"bad lab", LabSpec{Name: "x--y"}, `lab name "x--y"`},
		{"bad node", LabSpec{Name: "l", Nodes: []NodeSpec{node("a/b")}}, `nodes[0]: name "a/b"`},
		{"duplicate node", LabSpec{Name: "l", Nodes: []NodeSpec{node("a"), node("a")}}, `nodes[1]: name "a" is also nodes[0]`},
		{"duplicate address", LabSpec{Name: "l", Nodes: []NodeSpec{node("a", "10.0.0.1/24"), node("b", "10.0.0.1/16")}},
			"nodes[1].addresses[0]: 10.0.0.1/16 is also nodes[0].addresses[0]"},
		{"loopback duplicates address", LabSpec{Name: "l", Nodes: []NodeSpec{node("a", "10.0.0.1/24"),
			{Name: "b", Loopbacks: []netip.Prefix{pfx("10.0.0.1/32")}}}}, "nodes[1].loopbacks[0]"},
		{"multicast", LabSpec{Name: "l", Nodes: []NodeSpec{node("a", "224.0.0.5/24")}}, "cannot be an interface address"},
		{"mapped", LabSpec{Name: "l", Nodes: []NodeSpec{node("a", "::ffff:10.0.0.1/120")}}, "IPv4-mapped"},
		{"zero prefix", LabSpec{Name: "l", Nodes: []NodeSpec{{Name: "a", Addresses: []netip.Prefix{{}}}}}, "not a valid prefix"},
		{"link to nobody", LabSpec{Name: "l", Nodes: []NodeSpec{node("a")}, Links: []LinkSpec{{A: "a", B: "z"}}}, `links[0]: b: no node "z"`},
		{"link to self", LabSpec{Name: "l", Nodes: []NodeSpec{node("a")}, Links: []LinkSpec{{A: "a", B: "a"}}}, "both ends"},
		{"link name taken", LabSpec{Name: "l", Nodes: []NodeSpec{node("a"), node("b")}, Links: []LinkSpec{{A: "a", B: "b", AIfName: "eth0"}}},
			"already has an interface eth0"},
		{"link name too long", LabSpec{Name: "l", Nodes: []NodeSpec{node("a"), node("b")}, Links: []LinkSpec{{A: "a", B: "b", BIfName: "sixteen-chars-xx"}}},
			"Linux allows 15"},
		{"route without via or dev", LabSpec{Name: "l", Nodes: []NodeSpec{{Name: "a", Routes: []Route{{Dst: pfx("0.0.0.0/0")}}}}},
			"nodes[0].routes[0]: needs a gateway"},
		{"route family", LabSpec{Name: "l", Nodes: []NodeSpec{{Name: "a", Routes: []Route{{Dst: pfx("::/0"), Via: netip.MustParseAddr("10.0.0.1")}}}}},
			"different families"},
		{"route dev unknown", LabSpec{Name: "l", Nodes: []NodeSpec{{Name: "a", Routes: []Route{{Dst: pfx("10.0.0.0/8"), Dev: "p-z"}}}}},
			`has no interface "p-z"`},
		{"peer unknown", LabSpec{Name: "l", Nodes: []NodeSpec{{Name: "a", Peers: []string{"z"}}}}, `nodes[0].peers[0]: no node "z"`},
		{"peer is self", LabSpec{Name: "l", Nodes: []NodeSpec{node("b"), {Name: "a", Peers: []string{"b", "a"}}}},
			`nodes[1].peers[1]: node "a" cannot be its own peer`},
		{"neighbor mode", LabSpec{Name: "l", Neighbors: NeighborsStatic + 1}, "neighbors: unknown mode 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := tt.spec.validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("validate: %v", err)
				}
				if p.links[0].aName != "p-b" || p.links[1].bName != "p-b.1" {
					t.Fatalf("link names %q, %q; want p-b and p-b.1", p.links[0].aName, p.links[1].bName)
				}
				return
			}
			if err == nil {
				t.Fatalf("validate succeeded, want an error containing %q", tt.want)
			}
			if !errors.Is(err, ErrInvalidSpec) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("validate: %v, want ErrInvalidSpec containing %q", err, tt.want)
			}
		})
	}
}
