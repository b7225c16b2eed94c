package netns

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// threeNodes is a lab of a, b, c on the bridge (10.1.0.1-3/24), a loopback
// 192.0.2.1/32 on a that b routes to via a, and a point-to-point link a-c
// (10.9.0.0/31 - 10.9.0.1/31).
func threeNodes(name string) LabSpec {
	pfx := netip.MustParsePrefix
	return LabSpec{
		Name: name,
		Nodes: []NodeSpec{
			{Name: "a", Addresses: []netip.Prefix{pfx("10.1.0.1/24")}, Loopbacks: []netip.Prefix{pfx("192.0.2.1/32")}},
			{Name: "b", Addresses: []netip.Prefix{pfx("10.1.0.2/24")},
				Routes: []Route{{Dst: pfx("192.0.2.1/32"), Via: netip.MustParseAddr("10.1.0.1")}}},
			{Name: "c", Addresses: []netip.Prefix{pfx("10.1.0.3/24"), pfx("fd00:1::3/64")}},
		},
		Links: []LinkSpec{{A: "a", B: "c", AAddr: pfx("10.9.0.0/31"), BAddr: pfx("10.9.0.1/31")}},
	}
}

// nlIn opens a netlink handle inside the named namespace, independently of
// the lab's own handles.
func nlIn(t *testing.T, ns string) *netlink.Handle {
	t.Helper()
	fd, err := netns.GetFromName(ns)
	if err != nil {
		t.Fatalf("open namespace %s: %v", ns, err)
	}
	defer fd.Close()
	h, err := netlink.NewHandleAt(fd, unix.NETLINK_ROUTE)
	if err != nil {
		t.Fatalf("netlink in %s: %v", ns, err)
	}
	t.Cleanup(h.Close)
	return h
}

// addrsOf returns the addresses on ifname, as prefixes.
func addrsOf(t *testing.T, h *netlink.Handle, ifname string) []netip.Prefix {
	t.Helper()
	link, err := h.LinkByName(ifname)
	if err != nil {
		t.Fatalf("find %s: %v", ifname, err)
	}
	if link.Attrs().Flags&net.FlagUp == 0 {
		t.Errorf("%s is down", ifname)
	}
	addrs, err := h.AddrList(link, netlink.FAMILY_ALL)
	if err != nil {
		t.Fatalf("addresses of %s: %v", ifname, err)
	}
	var out []netip.Prefix
	for _, a := range addrs {
		ip, _ := netip.AddrFromSlice(a.IP)
		ones, _ := a.Mask.Size()
		out = append(out, netip.PrefixFrom(ip.Unmap(), ones))
	}
	return out
}

func TestCreateBuildsNamespacesLinksAndAddresses(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	name := labName(t)
	lab := mustCreate(t, threeNodes(name))

	got := namespacesOf(t, name)
	want := []string{HubNamespace(name), NodeNamespace(name, "a"), NodeNamespace(name, "b"), NodeNamespace(name, "c")}
	sort.Strings(got)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Fatalf("namespaces = %v, want %v", got, want)
	}

	hub := nlIn(t, HubNamespace(name))
	br, err := hub.LinkByName(BridgeName)
	if err != nil || br.Type() != "bridge" || br.Attrs().Flags&net.FlagUp == 0 {
		t.Fatalf("hub bridge: %v, %v", br, err)
	}
	for _, node := range lab.Nodes() {
		v, err := hub.LinkByName(hubIfName(name, node))
		if err != nil {
			t.Fatalf("hub end of %s: %v", node, err)
		}
		if v.Type() != "veth" || v.Attrs().MasterIndex != br.Attrs().Index || v.Attrs().Alias != node {
			t.Errorf("hub end of %s: type %s master %d alias %q; want veth on %s aliased %s",
				node, v.Type(), v.Attrs().MasterIndex, v.Attrs().Alias, BridgeName, node)
		}
	}

	pfx := netip.MustParsePrefix
	for _, tt := range []struct {
		node, ifname string
		want         netip.Prefix
	}{
		{"a", "eth0", pfx("10.1.0.1/24")},
		{"a", "lo", pfx("192.0.2.1/32")},
		{"a", "p-c", pfx("10.9.0.0/31")},
		{"b", "eth0", pfx("10.1.0.2/24")},
		{"c", "eth0", pfx("10.1.0.3/24")},
		{"c", "eth0", pfx("fd00:1::3/64")},
		{"c", "p-a", pfx("10.9.0.1/31")},
	} {
		h := nlIn(t, NodeNamespace(name, tt.node))
		if got := addrsOf(t, h, tt.ifname); !slices.Contains(got, tt.want) {
			t.Errorf("node %s %s has %v, want %v among them", tt.node, tt.ifname, got, tt.want)
		}
	}

	b := nlIn(t, NodeNamespace(name, "b"))
	routes, err := b.RouteGet(net.IPv4(192, 0, 2, 1))
	if err != nil || len(routes) == 0 || !routes[0].Gw.Equal(net.IPv4(10, 1, 0, 1)) {
		t.Errorf("route from b to 192.0.2.1: %v, %v; want via 10.1.0.1", routes, err)
	}
	// The host namespace got nothing: no interface of the lab's there.
	for _, node := range lab.Nodes() {
		if _, err := netlink.LinkByName(hubIfName(name, node)); err == nil {
			t.Errorf("hub end of %s exists in the host namespace", node)
		}
	}
}

// exchange listens on listenAddr in node from, dials it from node to and
// checks that a line goes through, returning the remote address the
// listener saw.
func exchange(t *testing.T, lab *Lab, listenNode, listenAddr, dialNode string) netip.Addr {
	t.Helper()
	ln, err := lab.ListenIn(listenNode, "tcp", listenAddr)
	if err != nil {
		t.Fatalf("listen in %s: %v", listenNode, err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := lab.DialIn(ctx, dialNode, "tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("dial %s from %s: %v", ln.Addr(), dialNode, err)
	}
	defer conn.Close()
	c, ok := <-accepted
	if !ok {
		t.Fatal("accept failed")
	}
	defer c.Close()
	if _, err := conn.Write([]byte("hello\n")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 6)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "hello\n" {
		t.Fatalf("read %q, %v", buf, err)
	}
	return netip.MustParseAddrPort(c.RemoteAddr().String()).Addr()
}

func TestReachability(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	lab := mustCreate(t, threeNodes(labName(t)))
	tests := []struct {
		name                             string
		listenNode, listenAddr, dialNode string
		wantFrom                         string
	}{
		{"bridge", "a", "10.1.0.1:0", "b", "10.1.0.2"},
		{"bridge ipv6", "c", "[fd00:1::3]:0", "c", "fd00:1::3"},
		{"point-to-point", "c", "10.9.0.1:0", "a", "10.9.0.0"},
		{"static route to loopback", "a", "192.0.2.1:0", "b", "10.1.0.2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if from := exchange(t, lab, tt.listenNode, tt.listenAddr, tt.dialNode); from.String() != tt.wantFrom {
				t.Fatalf("listener saw %s, want %s", from, tt.wantFrom)
			}
		})
	}
}

func TestSocketsStayInTheirNamespace(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	lab := mustCreate(t, threeNodes(labName(t)))
	// Each node has its own loopback: a listener on node a's 127.0.0.1 is
	// reachable from a and refused from b, whose loopback nobody uses.
	if from := exchange(t, lab, "a", "127.0.0.1:0", "a"); from.String() != "127.0.0.1" {
		t.Fatalf("loopback exchange in a came from %s", from)
	}
	ln, err := lab.ListenIn("a", "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if _, err := lab.DialIn(ctx, "b", "tcp", ln.Addr().String()); !errors.Is(err, unix.ECONNREFUSED) {
		t.Fatalf("dial a's loopback listener from b: %v, want connection refused", err)
	}
	if _, err := lab.DialIn(ctx, "b", "tcp", "localhost:80"); err == nil {
		t.Fatal("DialIn accepted a host name")
	}
}

func TestSetLinkState(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	lab := mustCreate(t, threeNodes(labName(t)))
	ln, err := lab.ListenIn("a", "tcp", "10.1.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	dial := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		c, err := lab.DialIn(ctx, "b", "tcp", ln.Addr().String())
		if err == nil {
			c.Close()
		}
		return err
	}
	if err := dial(); err != nil {
		t.Fatalf("dial with eth0 up: %v", err)
	}
	if err := lab.SetLinkState("b", "eth0", false); err != nil {
		t.Fatal(err)
	}
	if err := dial(); !errors.Is(err, unix.ENETUNREACH) {
		t.Fatalf("dial with eth0 down: %v, want network unreachable", err)
	}
	if err := lab.SetLinkState("b", "eth0", true); err != nil {
		t.Fatal(err)
	}
	if err := dial(); err != nil {
		t.Fatalf("dial with eth0 up again: %v", err)
	}
	if err := lab.SetLinkState("b", "nope0", true); err == nil {
		t.Fatal("SetLinkState on a missing interface succeeded")
	}
	if err := lab.SetLinkState("zz", "eth0", true); !errors.Is(err, ErrNodeNotFound) {
		t.Fatalf("SetLinkState on a missing node: %v, want ErrNodeNotFound", err)
	}
}
