package netfault

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"
)

// TestNetemDelay checks that a's replies are delayed: a TCP echo round
// trip from b takes at least the configured delay. Only that lower bound
// is asserted.
func TestNetemDelay(t *testing.T) {
	t.Parallel()
	const delay = 200 * time.Millisecond
	lab := newLab(t, 2)
	lab.serve("a", lab.addr4("a"), DefaultBGPPort)
	f, target := NewNetem(NetemParams{Delay: delay, Jitter: 10 * time.Millisecond}), lab.target("a")
	injectNetem(t, f, target)
	if err := f.Inject(context.Background(), target); !errors.Is(err, ErrAlreadyInjected) {
		t.Fatalf("second Inject: got %v, want ErrAlreadyInjected", err)
	}
	if rtt := echoRTT(t, lab); rtt < delay-10*time.Millisecond {
		t.Errorf("echo round trip %v with netem delay %v±10ms, want at least the delay", rtt, delay)
	}
	mustHeal(t, f, target)
	lab.mustConnect("b", lab.addr4("a"), DefaultBGPPort)
	mustHeal(t, f, target) // healed already: no-op
}

// TestNetemLoss checks that 100% loss on a's link makes connects to a time
// out, and heal restores them.
func TestNetemLoss(t *testing.T) {
	t.Parallel()
	lab := newLab(t, 2)
	lab.serve("a", lab.addr4("a"), DefaultBGPPort)
	f, target := NewNetem(NetemParams{LossPercent: 100}), lab.target("a")
	injectNetem(t, f, target)
	if got, _ := lab.try("b", lab.addr4("a"), DefaultBGPPort); got != timedOut {
		t.Errorf("b -> a with 100%% loss: got %s, want %s", got, timedOut)
	}
	mustHeal(t, f, target)
	lab.mustConnect("b", lab.addr4("a"), DefaultBGPPort)
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
