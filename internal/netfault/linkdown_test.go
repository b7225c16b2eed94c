package netfault

import (
	"context"
	"errors"
	"net/netip"
	"testing"

	"github.com/peerlab/peerlab/internal/netns"
	"github.com/vishvananda/netlink"
)

// TestLinkDown takes a's eth0 down and checks that b cannot reach a, then
// that heal brings back the link, a's static route and its IPv6 address,
// which the kernel drops with the link.
func TestLinkDown(t *testing.T) {
	t.Parallel()
	staticDst := netip.MustParsePrefix("192.0.2.0/24")
	lab := newLab(t, 2, withRoute("a", func(l *testLab) netns.Route {
		return netns.Route{Dst: staticDst, Via: l.addr4("b")}
	}))
	lab.serve("a", lab.addr4("a"), DefaultBGPPort)
	lab.serve("a", lab.addr6("a"), DefaultBGPPort)
	f, target := NewLinkDown(), lab.target("a")

	mustInject(t, f, target)
	if got, _ := lab.try("b", lab.addr4("a"), DefaultBGPPort); got == connected {
		t.Fatal("b reached a with a's link down")
	}
	if err := f.Inject(context.Background(), target); !errors.Is(err, ErrAlreadyInjected) {
		t.Fatalf("second Inject: got %v, want ErrAlreadyInjected", err)
	}
	if routeTo(t, target, staticDst) {
		t.Fatal("the static route survived link down; this test no longer shows that heal restores it")
	}

	mustHeal(t, f, target)
	lab.mustConnect("b", lab.addr4("a"), DefaultBGPPort)
	lab.mustConnect("b", lab.addr6("a"), DefaultBGPPort)
	if !routeTo(t, target, staticDst) {
		t.Errorf("route to %v not restored by heal", staticDst)
	}
	mustHeal(t, f, target) // healed already: no-op
}

// routeTo reports whether target's namespace has a main-table route to dst.
func routeTo(t *testing.T, target Target, dst netip.Prefix) bool {
	t.Helper()
	h, err := openNetlink(target.NSPath)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	routes, err := h.RouteList(nil, netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range routes {
		if r.Dst != nil && r.Dst.String() == dst.String() {
			return true
		}
	}
	return false
}
