package netfault

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	vnetns "github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// TestNetemDelay checks delay on a kernel with the netem qdisc: a TCP echo
// round trip from b to a takes at least the configured delay (only that
// lower bound is asserted). On a kernel without it, it checks that Inject
// says so, names the kernel option, and leaves neither a qdisc nor a
// table behind.
func TestNetemDelay(t *testing.T) {
	t.Parallel()
	const delay = 200 * time.Millisecond
	lab := newLab(t, 2)
	lab.serve("a", lab.addr4("a"), DefaultBGPPort)
	target := lab.target("a")
	if !kernelHasNetem(t, lab, "b") {
		t.Log("kernel has no netem qdisc: checking that delay is refused cleanly")
		f := NewNetem(NetemParams{Delay: delay, Jitter: 10 * time.Millisecond, LossPercent: 50})
		err := f.Inject(context.Background(), target)
		if !errors.Is(err, ErrUnsupported) {
			t.Fatalf("Inject with delay on a kernel without netem: got %v, want ErrUnsupported", err)
		}
		t.Logf("Inject refused: %v", err)
		for _, want := range []string{"CONFIG_NET_SCH_NETEM", "loss-only"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not mention %q", err, want)
			}
		}
		if rules := lab.ruleset("a"); strings.Contains(rules, TableName) {
			t.Errorf("refused Inject left a table behind:\n%s", rules)
		}
		if q := lab.qdiscs("a", DefaultInterface); strings.Contains(q, "netem") {
			t.Errorf("refused Inject left a qdisc behind:\n%s", q)
		}
		mustHeal(t, f, target) // nothing there: no-op
		lab.mustConnect("b", lab.addr4("a"), DefaultBGPPort)
		return
	}

	f := NewNetem(NetemParams{Delay: delay, Jitter: 10 * time.Millisecond})
	mustInject(t, f, target)
	if err := f.Inject(context.Background(), target); !errors.Is(err, ErrAlreadyInjected) {
		t.Fatalf("second Inject: got %v, want ErrAlreadyInjected", err)
	}
	if q := lab.qdiscs("a", DefaultInterface); !strings.Contains(q, "netem 504c:") {
		t.Errorf("tc shows no netem qdisc 504c: on %s:\n%s", DefaultInterface, q)
	}
	if rules := lab.ruleset("a"); strings.Contains(rules, TableName) {
		t.Errorf("delay without loss added nftables rules:\n%s", rules)
	}
	if rtt := echoRTT(t, lab); rtt < delay-10*time.Millisecond {
		t.Errorf("echo round trip %v with netem delay %v±10ms, want at least the delay", rtt, delay)
	}
	mustHeal(t, f, target)
	if q := lab.qdiscs("a", DefaultInterface); strings.Contains(q, "netem") {
		t.Errorf("heal left the netem qdisc:\n%s", q)
	}
	lab.mustConnect("b", lab.addr4("a"), DefaultBGPPort)
	mustHeal(t, f, target) // healed already: no-op
}

// TestNetemLoss checks that 100% loss on a's eth0 makes connects to a time
// out while a still reaches itself over lo, that it needs no qdisc, and
// that heal restores connects and removes the rules.
func TestNetemLoss(t *testing.T) {
	t.Parallel()
	lab := newLab(t, 2)
	lab.serve("a", lab.addr4("a"), DefaultBGPPort)
	f, target := NewNetem(NetemParams{LossPercent: 100}), lab.target("a")
	mustInject(t, f, target)
	if err := NewNetem(NetemParams{LossPercent: 5}).Inject(context.Background(), target); !errors.Is(err, ErrAlreadyInjected) {
		t.Fatalf("Inject by a second instance: got %v, want ErrAlreadyInjected", err)
	}
	if got, _ := lab.try("b", lab.addr4("a"), DefaultBGPPort); got != timedOut {
		t.Errorf("b -> a with 100%% loss: got %s, want %s", got, timedOut)
	}
	// a's own address is reached over lo, which the rule does not match.
	lab.mustConnect("a", lab.addr4("a"), DefaultBGPPort)
	rules := lab.ruleset("a")
	for _, want := range []string{"chain " + lossChainName, `oifname "eth0" numgen random mod 100 < 100`, `drop comment "peerlab:netem"`} {
		if !strings.Contains(rules, want) {
			t.Errorf("nft list ruleset lacks %q:\n%s", want, rules)
		}
	}
	if q := lab.qdiscs("a", DefaultInterface); strings.Contains(q, "netem") {
		t.Errorf("loss-only netem added a qdisc:\n%s", q)
	}
	mustHeal(t, f, target)
	lab.mustConnect("b", lab.addr4("a"), DefaultBGPPort)
	if rules := lab.ruleset("a"); strings.Contains(rules, TableName) {
		t.Errorf("after heal the ruleset still holds %s:\n%s", TableName, rules)
	}
}

// TestNetemPartialLoss sends datagrams from a to b through 50% loss on
// a's eth0 and checks that about half arrive. With 200 datagrams the
// accepted range [50, 150] is seven standard deviations wide on each
// side, so a correct rule does not fail it by chance.
func TestNetemPartialLoss(t *testing.T) {
	t.Parallel()
	const sent = 200
	lab := newLab(t, 2)
	dst := netip.AddrPortFrom(lab.addr4("b"), 4789)
	pc, err := lab.ListenPacketIn("b", "udp", dst.String())
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := lab.DialIn(ctx, "a", "udp", dst.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	// One datagram before the fault resolves b's address, so no
	// datagram waits for (or is lost to) ARP during the count.
	seq := func(i uint32) []byte { return binary.BigEndian.AppendUint32(nil, i) }
	if _, err := c.Write(seq(sent)); err != nil {
		t.Fatal(err)
	}
	_ = pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := pc.ReadFrom(make([]byte, 16)); err != nil {
		t.Fatalf("datagram before the fault: %v", err)
	}

	f, target := NewNetem(NetemParams{LossPercent: 50}), lab.target("a")
	mustInject(t, f, target)
	defer mustHeal(t, f, target)
	if rules := lab.ruleset("a"); !strings.Contains(rules, "numgen random mod 100 < 50") {
		t.Errorf("nft list ruleset lacks the 50%% rule:\n%s", rules)
	}

	got := make(chan int, 1)
	go func() {
		seen := map[uint32]bool{}
		buf := make([]byte, 16)
		for {
			_ = pc.SetReadDeadline(time.Now().Add(time.Second))
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				got <- len(seen)
				return
			}
			if n == 4 {
				seen[binary.BigEndian.Uint32(buf)] = true
			}
		}
	}()
	passed := 0
	for i := uint32(0); i < sent; i++ {
		// A datagram the rule drops fails the send with EPERM.
		if _, err := c.Write(seq(i)); err == nil {
			passed++
		} else if !errors.Is(err, unix.EPERM) {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	arrived := <-got
	t.Logf("50%% loss: %d of %d datagrams passed a's output hook, %d arrived at b", passed, sent, arrived)
	if arrived < sent/4 || arrived > sent*3/4 {
		t.Errorf("%d of %d datagrams arrived through 50%% loss, want between %d and %d", arrived, sent, sent/4, sent*3/4)
	}
	if arrived > passed {
		t.Errorf("%d datagrams arrived but only %d sends succeeded", arrived, passed)
	}
}

// TestLossThreshold checks the random draw behind each loss percentage.
func TestLossThreshold(t *testing.T) {
	tests := []struct {
		percent   float64
		mod, less uint32
	}{
		{100, 100, 100},
		{50, 100, 50},
		{1, 100, 1},
		{0.5, 10000, 50},
		{12.34, 10000, 1234},
		{0.01, 10000, 1},
	}
	for _, tc := range tests {
		mod, less := lossThreshold(tc.percent)
		if mod != tc.mod || less != tc.less {
			t.Errorf("lossThreshold(%v) = mod %d < %d, want mod %d < %d", tc.percent, mod, less, tc.mod, tc.less)
		}
	}
}

// kernelHasNetem reports whether the kernel knows the netem qdisc, by
// adding one to lo in node's namespace and deleting it again.
func kernelHasNetem(t *testing.T, lab *testLab, node string) bool {
	t.Helper()
	path, err := lab.NamespacePath(node)
	if err != nil {
		t.Fatal(err)
	}
	ns, err := vnetns.GetFromPath(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	lo, err := h.LinkByName("lo")
	if err != nil {
		t.Fatal(err)
	}
	q := netlink.NewNetem(netlink.QdiscAttrs{LinkIndex: lo.Attrs().Index, Handle: 0x7e57 << 16, Parent: netlink.HANDLE_ROOT},
		netlink.NetemQdiscAttrs{Latency: 1000})
	switch err := h.QdiscAdd(q); {
	case errors.Is(err, unix.ENOENT):
		return false
	case err != nil:
		t.Fatalf("probe for netem: add a netem qdisc to lo: %v", err)
	}
	if err := h.QdiscDel(q); err != nil {
		t.Fatalf("probe for netem: delete the qdisc: %v", err)
	}
	return true
}

// echoRTT connects from b to a's echo server and times one byte there and
// back.
func echoRTT(t *testing.T, lab *testLab) time.Duration {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := lab.DialIn(ctx, "b", "tcp", lab.addr4("a").String()+":179")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	if _, err := c.Write([]byte{1}); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(c, make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	return time.Since(start)
}
