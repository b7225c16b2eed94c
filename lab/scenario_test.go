package lab

import (
	"context"
	"fmt"
	"hash/fnv"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/peerlab/peerlab/lab/topology"
)

// scenarioLab brings up yaml (with %[1]s for a lab name derived from the
// test and %[2]s for its 10.A.B) in namespace mode; Down when the test ends.
func scenarioLab(t *testing.T, yaml string) *Lab {
	t.Helper()
	h := fnv.New32a()
	fmt.Fprintf(h, "%s/%d", t.Name(), os.Getpid())
	name := fmt.Sprintf("sc%06x", h.Sum32()&0xffffff)
	base, _ := birdNet(t)
	topo, err := topology.Parse(name+".yaml", []byte(fmt.Sprintf(yaml, name, base)))
	if err != nil {
		t.Fatalf("topology: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	l, err := Up(ctx, topo, Options{Logger: zaptest.NewLogger(t), StateDir: t.TempDir(), Mode: ModeNamespace})
	if err != nil {
		t.Fatalf("up: %v", err)
	}
	t.Cleanup(func() {
		if err := l.Down(); err != nil {
			t.Errorf("down: %v", err)
		}
	})
	return l
}

// faultAt returns when the lab logged action (inject or heal) of the fault
// labelled label, from lab start.
func faultAt(t *testing.T, l *Lab, label, action string) int64 {
	t.Helper()
	for _, ev := range l.FaultLog() {
		if ev.Label == label && ev.Action == action {
			if ev.Error != "" {
				t.Fatalf("%s %s failed: %s", action, label, ev.Error)
			}
			return ev.AtMS
		}
	}
	t.Fatalf("no %s of fault %s in %+v", action, label, l.FaultLog())
	return 0
}

// scenarioYAML is two BIRD 1.6 nodes whose session flaps once: b's BIRD
// is down from 6 s to 9 s after the lab is up.
const scenarioYAML = `name: %[1]s
defaults: {asn: 64512, kind: bird, timers: {hold: 9s, keepalive: 3s, connect-retry: 1s}}
nodes:
  a: {address: %[2]s.1}
  b: {address: %[2]s.2, prefixes: [192.168.7.0/24]}
peerings:
  # b only waits, as the lower address does in Calico's mesh: two active
  # BIRDs can collide and take seconds longer to come up.
  - between: [a, b]
    passive: b
faults:
  - {name: b-down, at: 6s, heal-at: 9s, fault: bird-down, node: b}
expect:
  # 0: the session comes up.
  - established: [a, b]
    within: 20s
  # 1: after by duration; for catches the flap the fault makes (fails).
  - established: [a, b]
    after: 1s
    within: 5s
    for: 30s
  # 2: after by fault: what a's end shows while b's BIRD is down.
  - state: [a, b]
    at: a
    is: [Active, Connect, Idle]
    after: b-down
    within: 3s
  # 3: nor does it reach OpenConfirm (fails at its window's end).
  - state: [a, b]
    at: a
    is: OpenConfirm
    after: b-down
    within: 1s
  # 4: after by heal: up again and stays up.
  - established: [a, b]
    after: b-down.heal
    within: 20s
    for: 3s
  # 5: negative, fails as soon as it is seen.
  - not-established: [a, b]
    after: b-down.heal
    within: 30s
  # 6: negative, holds at the end of its window.
  - no-route: 192.168.8.0/24
    at: a
    after: 2s
    within: 1s
  # 7: route after the heal.
  - route: 192.168.7.0/24
    at: a
    after: b-down.heal
    within: 20s
`

// TestScenarioOverTime plays a fault schedule on real BIRD and checks
// windows counted from a delay, a fault and its heal, for: catching a
// flap, state expectations in both outcomes, and that the run lasts until
// the last fault event.
func TestScenarioOverTime(t *testing.T) {
	requireBIRD(t)
	t.Parallel()
	l := scenarioLab(t, scenarioYAML)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var decided []ExpectationResult
	results := l.Check(ctx, CheckOptions{OnResult: func(r ExpectationResult) { decided = append(decided, r) }})
	r := l.Report(ctx, results)
	var buf strings.Builder
	_ = r.WriteTable(&buf)
	t.Logf("report:\n%s", buf.String())

	inject, heal := faultAt(t, l, "b-down", "inject"), faultAt(t, l, "b-down", "heal")
	want := []struct {
		ok    bool
		basis string
	}{
		{true, BasisSeen}, {false, BasisBroke}, {true, BasisSeen}, {false, BasisWindowEnded},
		{true, BasisHeld}, {false, BasisSeen}, {true, BasisWindowEnded}, {true, BasisSeen},
	}
	if len(results) != len(want) {
		t.Fatalf("%d results, want %d", len(results), len(want))
	}
	for i, w := range want {
		if results[i].OK != w.ok || results[i].Basis != w.basis {
			t.Errorf("expect[%d] %s: ok=%t on %q (%s), want ok=%t on %q", i, results[i].Description, results[i].OK, results[i].Basis, results[i].Detail, w.ok, w.basis)
		}
	}
	if len(decided) != len(results) {
		t.Errorf("OnResult called %d times, want %d", len(decided), len(results))
	}
	// The flap breaks expect[1] while b's BIRD is down, and the report
	// says when.
	if b := results[1].BrokeAtMS; b < inject || b > heal+2000 || !strings.Contains(results[1].Detail, "broke at") {
		t.Errorf("expect[1] broke at %d ms (%s), want between the injection at %d and shortly after the heal at %d", b, results[1].Detail, inject, heal)
	}
	if results[1].HeldFromMS < 1000 || results[1].HeldFromMS > inject {
		t.Errorf("expect[1] held from %d ms, want after its window opened at 1000 and before the flap at %d", results[1].HeldFromMS, inject)
	}
	// Windows counted from the fault's injection and heal.
	for _, c := range []struct {
		i    int
		from int64
	}{{2, inject}, {3, inject}, {4, heal}, {5, heal}, {6, 2000}, {7, heal}} {
		if results[c.i].WindowFromMS != c.from {
			t.Errorf("expect[%d] window from %d ms, want %d", c.i, results[c.i].WindowFromMS, c.from)
		}
	}
	if got := results[3].AfterMS; got < inject+1000 {
		t.Errorf("expect[3] decided at %d ms, want at its window's end (%d)", got, inject+1000)
	}
	if results[4].HeldFromMS < heal || results[4].AfterMS < results[4].HeldFromMS+3000 {
		t.Errorf("expect[4] held from %d, decided at %d: want from after the heal (%d) for 3 s", results[4].HeldFromMS, results[4].AfterMS, heal)
	}
	// The timeline has the fault events and every verdict, in time order.
	var faults, verdicts int
	for i, e := range r.Timeline {
		if i > 0 && e.AtMS < r.Timeline[i-1].AtMS {
			t.Errorf("timeline out of order at %d: %+v", i, e)
		}
		switch e.Type {
		case TimelineFault:
			faults++
		case TimelineExpectation:
			verdicts++
		}
	}
	if faults != 2 || verdicts != len(results) {
		t.Errorf("timeline has %d fault events and %d verdicts, want 2 and %d", faults, verdicts, len(results))
	}
	if !strings.Contains(buf.String(), "inject bird-down [b-down]") || !strings.Contains(buf.String(), "broke") {
		t.Errorf("table report lacks the fault or the broken verdict")
	}
}

// TestRunPlaysScheduleWithoutExpectations: a lab with faults and no
// expectations runs until its last fault event, and duration: keeps it
// running that long.
func TestRunPlaysScheduleWithoutExpectations(t *testing.T) {
	requireBIRD(t)
	t.Parallel()
	l := scenarioLab(t, `name: %[1]s
duration: 4s
defaults: {kind: bird}
nodes:
  a: {address: %[2]s.1}
  b: {address: %[2]s.2}
peerings:
  - between: [a, b]
faults:
  - {at: 1s, heal-at: 2s, fault: tcp179-drop, node: a}
`)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if res := l.Check(ctx, CheckOptions{}); len(res) != 0 {
		t.Fatalf("results %+v, want none", res)
	}
	log := l.FaultLog()
	if len(log) != 2 || log[1].Action != "heal" || log[1].Error != "" {
		t.Errorf("when Check returned the fault log was %+v, want the inject and the heal", log)
	}
	if ran := time.Since(l.Started()); ran < 4*time.Second {
		t.Errorf("Check returned %v after lab start, before the topology's duration of 4s", ran)
	}
}
