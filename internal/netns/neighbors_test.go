package netns

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

func TestNodeMACsAreDistinctAndLocal(t *testing.T) {
	seen := map[string]int{}
	for i := range 70000 { // past 2^16, to cross the middle byte
		mac := nodeMAC(i)
		if mac[0]&0x02 == 0 || mac[0]&0x01 != 0 {
			t.Fatalf("node %d: %s is not a locally administered unicast MAC", i, mac)
		}
		if j, dup := seen[mac.String()]; dup {
			t.Fatalf("nodes %d and %d share %s", j, i, mac)
		}
		seen[mac.String()] = i
	}
}

// starPlan validates a star of n nodes: node 0 peers with every other.
func starPlan(t *testing.T, n int, v6 bool) *plan {
	t.Helper()
	spec := starSpec("star", n, 7)
	for i := 1; i < n; i++ {
		spec.Nodes[0].Peers = append(spec.Nodes[0].Peers, spec.Nodes[i].Name)
		spec.Nodes[i].Peers = []string{spec.Nodes[0].Name, spec.Nodes[0].Name} // a duplicate counts once
		if v6 {
			spec.Nodes[i].Addresses = append(spec.Nodes[i].Addresses, netip.MustParsePrefix(fmt.Sprintf("fd00:7::%x/64", i+1)))
		}
	}
	p, err := spec.validate()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestNeighborModeDecides(t *testing.T) {
	limit := readThreshold(gcThresh1IPv4)
	// A star of n nodes needs 2(n-1) IPv4 entries: n-1 on the hub, one
	// on each other node.
	small, large := limit/2, limit/2+2
	for _, tc := range []struct {
		mode  NeighborMode
		nodes int
		want  bool
	}{
		{NeighborsAuto, small, false},
		{NeighborsAuto, large, true},
		{NeighborsARP, large, false},
		{NeighborsStatic, 2, true},
	} {
		t.Run(fmt.Sprintf("%s-%d", tc.mode, tc.nodes), func(t *testing.T) {
			p := starPlan(t, tc.nodes, false)
			if v4, v6 := p.neighborEntries(); v4 != 2*(tc.nodes-1) || v6 != 0 {
				t.Fatalf("entries v4=%d v6=%d, want %d and 0", v4, v6, 2*(tc.nodes-1))
			}
			if got := tc.mode.static(p); got != tc.want {
				t.Fatalf("static = %t with %d entries against gc_thresh1 %d, want %t", got, 2*(tc.nodes-1), limit, tc.want)
			}
		})
	}
	if v4, v6 := starPlan(t, 3, true).neighborEntries(); v4 != 4 || v6 != 2 {
		t.Fatalf("dual-stack star of 3: v4=%d v6=%d, want 4 and 2", v4, v6)
	}
}

// TestStaticNeighbors builds a small lab with static neighbours and checks
// that each node holds a PERMANENT entry, with the peer's real eth0 MAC,
// for every address of each of its peers and for nothing else, and that
// the hub bridge forwards each node's MAC to its port statically.
func TestStaticNeighbors(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	name := labName(t)
	spec := threeNodes(name)
	spec.Neighbors = NeighborsStatic
	spec.Nodes[0].Peers = []string{"b", "c"}
	spec.Nodes[1].Peers = []string{"a"}
	spec.Nodes[2].Peers = []string{"a"}
	lab := mustCreate(t, spec)

	macs := map[string]net.HardwareAddr{}
	for _, n := range lab.Nodes() {
		ns, _ := lab.Namespace(n)
		eth, err := nlIn(t, ns).LinkByName(NodeIfName)
		if err != nil {
			t.Fatal(err)
		}
		macs[n] = eth.Attrs().HardwareAddr
	}
	want := map[string][]string{ // node -> "addr lladdr" it must hold
		"a": {"10.1.0.2 " + macs["b"].String(), "10.1.0.3 " + macs["c"].String(), "fd00:1::3 " + macs["c"].String()},
		"b": {"10.1.0.1 " + macs["a"].String()},
		"c": {"10.1.0.1 " + macs["a"].String()},
	}
	for node, entries := range want {
		ns, _ := lab.Namespace(node)
		got := permanentNeighbors(t, nlIn(t, ns))
		slices.Sort(got)
		slices.Sort(entries)
		if !slices.Equal(got, entries) {
			t.Errorf("node %s: PERMANENT entries on eth0 %q, want %q", node, got, entries)
		}
	}

	hub := nlIn(t, lab.HubNamespace())
	fdb, err := hub.NeighList(0, unix.AF_BRIDGE)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range lab.Nodes() {
		port, err := hub.LinkByName(hubIfName(name, n))
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, e := range fdb {
			if e.LinkIndex == port.Attrs().Index && bytes.Equal(e.HardwareAddr, macs[n]) && e.State&netlink.NUD_NOARP != 0 {
				found = true
			}
		}
		if !found {
			t.Errorf("bridge has no static entry for %s's MAC %s on %s", n, macs[n], port.Attrs().Name)
		}
	}
}

// TestARPNeighborsWriteNone checks that a lab left to ARP holds no
// permanent entries, and that its nodes still reach each other.
func TestARPNeighborsWriteNone(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	spec := threeNodes(labName(t))
	spec.Neighbors = NeighborsARP
	spec.Nodes[0].Peers = []string{"b", "c"}
	lab := mustCreate(t, spec)
	ns, _ := lab.Namespace("a")
	if got := permanentNeighbors(t, nlIn(t, ns)); len(got) > 0 {
		t.Fatalf("node a holds PERMANENT entries %q in ARP mode", got)
	}
}

// permanentNeighbors lists the PERMANENT neighbour entries on eth0 as
// "addr lladdr".
func permanentNeighbors(t *testing.T, h *netlink.Handle) []string {
	t.Helper()
	eth, err := h.LinkByName(NodeIfName)
	if err != nil {
		t.Fatal(err)
	}
	all, err := h.NeighList(eth.Attrs().Index, netlink.FAMILY_ALL)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, n := range all {
		if n.State&netlink.NUD_PERMANENT != 0 {
			out = append(out, n.IP.String()+" "+n.HardwareAddr.String())
		}
	}
	return out
}

// TestIPv6CrossesHubWithoutIPv6 checks that the hub, which has IPv6 off,
// still bridges IPv6 between nodes, both resolved by NDP and through
// static entries.
func TestIPv6CrossesHubWithoutIPv6(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	for _, mode := range []NeighborMode{NeighborsARP, NeighborsStatic} {
		t.Run(mode.String(), func(t *testing.T) {
			pfx := netip.MustParsePrefix
			lab := mustCreate(t, LabSpec{Name: labName(t), Neighbors: mode, Nodes: []NodeSpec{
				{Name: "a", Addresses: []netip.Prefix{pfx("fd00:2::1/64")}, Peers: []string{"b"}},
				{Name: "b", Addresses: []netip.Prefix{pfx("fd00:2::2/64")}, Peers: []string{"a"}},
			}})
			hub, err := openNamed(lab.HubNamespace())
			if err != nil {
				t.Fatal(err)
			}
			defer hub.close()
			var off []byte
			if err := inNamespace(hub.fd, func() (err error) {
				off, err = os.ReadFile(hubIPv6Sysctls[0])
				return err
			}); err != nil {
				t.Fatal(err)
			}
			if strings.TrimSpace(string(off)) != "1" {
				t.Errorf("hub %s = %q, want 1", hubIPv6Sysctls[0], off)
			}
			if from := exchange(t, lab, "b", "[fd00:2::2]:0", "a"); from.String() != "fd00:2::1" {
				t.Fatalf("b saw a connection from %s, want fd00:2::1", from)
			}
		})
	}
}

// TestNodesIPv6 checks which nodes have IPv6 on their eth0: off in a lab
// with static entries and no IPv6 address (the multicast of a thousand
// link-local stacks would flood the bridge), on when the lab uses IPv6
// or is left to ARP.
func TestNodesIPv6(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	pfx := netip.MustParsePrefix
	for _, tc := range []struct {
		name string
		mode NeighborMode
		addr [2]string
		off  bool
	}{
		{"static-v4", NeighborsStatic, [2]string{"10.3.0.1/24", "10.3.0.2/24"}, true},
		{"static-v6", NeighborsStatic, [2]string{"fd00:3::1/64", "fd00:3::2/64"}, false},
		{"arp-v4", NeighborsARP, [2]string{"10.3.0.1/24", "10.3.0.2/24"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lab := mustCreate(t, LabSpec{Name: labName(t), Neighbors: tc.mode, Nodes: []NodeSpec{
				{Name: "a", Addresses: []netip.Prefix{pfx(tc.addr[0])}, Peers: []string{"b"}},
				{Name: "b", Addresses: []netip.Prefix{pfx(tc.addr[1])}, Peers: []string{"a"}},
			}})
			path, err := lab.NamespacePath("a")
			if err != nil {
				t.Fatal(err)
			}
			ns, err := openNamed(filepath.Base(path))
			if err != nil {
				t.Fatal(err)
			}
			defer ns.close()
			var v []byte
			if err := inNamespace(ns.fd, func() (err error) {
				v, err = os.ReadFile("/proc/sys/net/ipv6/conf/" + NodeIfName + "/disable_ipv6")
				return err
			}); err != nil {
				t.Fatal(err)
			}
			if got, want := strings.TrimSpace(string(v)) == "1", tc.off; got != want {
				t.Errorf("node a: eth0 disable_ipv6 = %q, want IPv6 off %v", v, want)
			}
			if from := exchange(t, lab, "b", netip.AddrPortFrom(pfx(tc.addr[1]).Addr(), 0).String(), "a"); !from.IsValid() {
				t.Fatalf("b saw no connection from a")
			}
		})
	}
}
