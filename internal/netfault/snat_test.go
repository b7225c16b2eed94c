package netfault

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/peerlab/peerlab/internal/netns"
)

// TestSNATNodeTraffic checks that b's listener sees a's connection come
// from a's extra loopback address while the fault is on, and from a's
// own address before and after.
func TestSNATNodeTraffic(t *testing.T) {
	t.Parallel()
	snat := func(l *testLab) netip.Addr { return l.loopback4("a") }
	lab := newLab(t, 3,
		withLoopback("a", snat),
		// b must route replies to the translated address back to a.
		withRoute("b", func(l *testLab) netns.Route {
			return netns.Route{Dst: netip.PrefixFrom(snat(l), 32), Via: l.addr4("a")}
		}),
		withRoute("c", func(l *testLab) netns.Route {
			return netns.Route{Dst: netip.PrefixFrom(snat(l), 32), Via: l.addr4("a")}
		}),
	)
	seenB := lab.serve("b", lab.addr4("b"), DefaultBGPPort)
	seenC := lab.serve("c", lab.addr4("c"), DefaultBGPPort)
	source := func(seen <-chan netip.AddrPort, to string) netip.Addr {
		t.Helper()
		lab.mustConnect("a", lab.addr4(to), DefaultBGPPort)
		select {
		case ap := <-seen:
			return ap.Addr()
		case <-time.After(dialTimeout):
			t.Fatalf("%s's listener saw no connection", to)
			return netip.Addr{}
		}
	}
	if got := source(seenB, "b"); got != lab.addr4("a") {
		t.Fatalf("before the fault b sees %v, want %v", got, lab.addr4("a"))
	}

	f, target := NewSNATNodeTraffic(), lab.target("a")
	target.Peer, target.SNATAddr = lab.addr4("b"), snat(lab)
	mustInject(t, f, target)
	if got := source(seenB, "b"); got != snat(lab) {
		t.Errorf("with the fault b sees %v, want the SNAT address %v", got, snat(lab))
	}
	if got := source(seenC, "c"); got != lab.addr4("a") {
		t.Errorf("with the fault limited to peer b, c sees %v, want %v", got, lab.addr4("a"))
	}
	rules := lab.ruleset("a")
	for _, want := range []string{"table ip " + TableName, "snat-node-traffic-postrouting", "snat to " + snat(lab).String()} {
		if !strings.Contains(rules, want) {
			t.Errorf("nft list ruleset lacks %q:\n%s", want, rules)
		}
	}

	mustHeal(t, f, target)
	if got := source(seenB, "b"); got != lab.addr4("a") {
		t.Errorf("after heal b sees %v, want %v", got, lab.addr4("a"))
	}
}
