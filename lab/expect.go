package lab

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/peerlab/peerlab/lab/topology"
)

// pollInterval is how often expectations are re-evaluated.
const pollInterval = 100 * time.Millisecond

// ExpectationResult is the outcome of one expectation.
type ExpectationResult struct {
	Description string `json:"description"`
	// Kind is the expectation's kind (established, readiness, …).
	Kind string `json:"kind"`
	OK   bool   `json:"ok"`
	// Detail is what was observed when the outcome was decided.
	Detail string `json:"detail"`
	// Basis says what the outcome was decided on: seen, held, broke,
	// window-ended, anchor-failed or interrupted (the Basis* constants).
	Basis string `json:"basis"`
	// Line is the expectation's line in the topology file.
	Line int `json:"line,omitempty"`
	// AfterMS is when the outcome was decided, from lab start.
	AfterMS int64 `json:"after_ms"`
	// WindowFromMS and WindowToMS bound the window in which the condition
	// had to be seen (or not be seen), from lab start; both are -1 when
	// the window never opened (its fault was not injected or healed).
	WindowFromMS int64 `json:"window_from_ms"`
	WindowToMS   int64 `json:"window_to_ms"`
	// HeldFromMS is when a `for:` expectation's condition was first seen
	// (-1 when it never was); BrokeAtMS when it broke (-1 when it did
	// not).
	HeldFromMS int64 `json:"held_from_ms,omitempty"`
	BrokeAtMS  int64 `json:"broke_at_ms,omitempty"`
	// Findings are the findings of the diagnosis that decided a diagnosis
	// expectation.
	Findings []DiagnosisFinding `json:"findings,omitempty"`
}

// Describe renders an expectation for people: "established node1 <-> node2
// within 10s", with where its window starts and how long it must hold.
func Describe(e *topology.Expectation) string {
	var what string
	switch e.Kind {
	case topology.ExpectEstablished, topology.ExpectNotEstablished:
		who := "all sessions"
		if !e.All {
			who = strings.Join(e.Nodes, " <-> ")
		}
		what = fmt.Sprintf("%s %s", e.Kind, who)
	case topology.ExpectReadiness:
		what = fmt.Sprintf("readiness %s ready=%t", e.Node, e.Ready)
		if e.Message != "" {
			what += fmt.Sprintf(" %q", e.Message)
		}
	case topology.ExpectState:
		what = fmt.Sprintf("state %s at %s is %s", strings.Join(e.Nodes, " <-> "), e.At, strings.Join(e.States, "/"))
		if e.Error != "" {
			what += fmt.Sprintf(" error %q", e.Error)
		}
	case topology.ExpectDiagnosis:
		what = fmt.Sprintf("diagnosis %s cause %s", e.Node, e.Cause)
		if e.CauseNode != "" {
			what += " on " + e.CauseNode
		}
		if e.CausePeer != "" {
			what += " peer " + e.CausePeer
		}
		if e.Confidence != "" {
			what += " confidence>=" + e.Confidence
		}
	default:
		what = fmt.Sprintf("%s %s at %s", e.Kind, e.Route, e.At)
	}
	what += fmt.Sprintf(" within %s", e.Within)
	if a := e.After.String(); a != "" {
		what += " after " + a
	}
	if e.For > 0 {
		what += fmt.Sprintf(" for %s", e.For)
	}
	return what
}

// CheckOptions tune Check.
type CheckOptions struct {
	// Diagnoser runs diagnosis expectations; nil fails them.
	Diagnoser Diagnoser
	// Duration keeps Check running at least this long from lab start; 0
	// means the topology's `duration:`.
	Duration time.Duration
	// OnResult, when set, is called as each expectation is decided (from
	// the expectation's own goroutine).
	OnResult func(ExpectationResult)
}

// Check plays the lab's scenario to its end and returns the outcome of
// every expectation, in file order. Each expectation's window starts at
// its `after:` (lab start, a delay, a fault's injection or heal). A
// positive expectation holds once its condition is seen in the window
// (and, with `for:`, keeps holding that long); a negative one
// (not-established, no-route) fails once its condition is seen and holds
// when its window ends without it. Check returns when every expectation is
// decided, the fault schedule has played its last event and the run's
// duration has passed, or when ctx ends (undecided ones then fail as
// interrupted).
func (l *Lab) Check(ctx context.Context, opts CheckOptions) []ExpectationResult {
	if opts.Duration == 0 {
		opts.Duration = l.topo.Duration
	}
	exps := l.topo.Expectations
	results := make([]ExpectationResult, len(exps))
	var wg sync.WaitGroup
	for i, e := range exps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = l.checkOne(ctx, e, opts.Diagnoser)
			if opts.OnResult != nil {
				opts.OnResult(results[i])
			}
		}()
	}
	wg.Wait()
	l.waitScenario(ctx, opts.Duration)
	return results
}

// waitScenario waits until the fault schedule played its last event and
// d has passed since lab start, or ctx ends.
func (l *Lab) waitScenario(ctx context.Context, d time.Duration) {
	if l.scheduleDone != nil {
		select {
		case <-l.scheduleDone:
		case <-ctx.Done():
			return
		}
	}
	if wait := time.Until(l.started.Add(d)); wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
	}
}

// since is the lab time of now.
func (l *Lab) since() time.Duration { return time.Since(l.started) }

// checkOne decides one expectation.
func (l *Lab) checkOne(ctx context.Context, e *topology.Expectation, d Diagnoser) ExpectationResult {
	res := ExpectationResult{Description: Describe(e), Kind: string(e.Kind), Line: e.Line, WindowFromMS: -1, WindowToMS: -1}
	if e.For > 0 {
		res.HeldFromMS, res.BrokeAtMS = -1, -1
	}
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	wait := func() bool {
		select {
		case <-ctx.Done():
			res.Basis = BasisInterrupted
			res.Detail = "interrupted before the outcome was known: " + ctx.Err().Error()
			res.AfterMS = l.since().Milliseconds()
			return false
		case <-ticker.C:
			return true
		}
	}
	var start time.Duration
	for {
		at, known, err := l.anchorTime(e.After)
		if err != nil {
			res.Basis, res.Detail, res.AfterMS = BasisAnchorFailed, err.Error(), l.since().Milliseconds()
			return res
		}
		if known {
			start = at
			break
		}
		if !wait() {
			return res
		}
	}
	j := newJudge(e, start)
	res.WindowFromMS, res.WindowToMS = start.Milliseconds(), j.end.Milliseconds()
	var heldDetail string
	for {
		now := l.since()
		if now >= start {
			o := l.observe(ctx, e, d)
			done, ok, basis := j.step(now, o.seen)
			if j.holding && res.HeldFromMS < 0 {
				res.HeldFromMS, heldDetail = j.heldFrom.Milliseconds(), o.detail
			}
			if done {
				res.OK, res.Basis, res.Detail, res.Findings = ok, basis, o.detail, o.findings
				res.AfterMS = now.Milliseconds()
				switch basis {
				case BasisBroke:
					res.BrokeAtMS = now.Milliseconds()
					res.Detail = fmt.Sprintf("held from %.1fs (%s), broke at %.1fs: %s",
						float64(res.HeldFromMS)/1000, heldDetail, now.Seconds(), o.detail)
				case BasisHeld:
					res.Detail = fmt.Sprintf("held from %.1fs to %.1fs: %s", float64(res.HeldFromMS)/1000, now.Seconds(), o.detail)
				}
				return res
			}
		}
		if !wait() {
			return res
		}
	}
}

// anchorTime returns when an expectation's window starts, from lab start:
// known is false while its fault has not been injected (or healed) yet.
func (l *Lab) anchorTime(a topology.Anchor) (at time.Duration, known bool, err error) {
	if a.Fault == "" {
		return a.Delay, true, nil
	}
	action := "inject"
	if a.Heal {
		action = "heal"
	}
	for _, ev := range l.FaultLog() {
		if ev.Label != a.Fault || ev.Action != action {
			continue
		}
		if ev.Error != "" {
			return 0, false, fmt.Errorf("the window never opened: %s of fault %s failed at %.1fs: %s", action, a.Fault, float64(ev.AtMS)/1000, ev.Error)
		}
		return time.Duration(ev.AtMS) * time.Millisecond, true, nil
	}
	if a.Heal && l.faultInjectFailed(a.Fault) {
		return 0, false, fmt.Errorf("the window never opened: fault %s was never injected, so it is never healed", a.Fault)
	}
	return 0, false, nil
}

// faultInjectFailed reports whether the injection of the fault labelled
// label failed.
func (l *Lab) faultInjectFailed(label string) bool {
	for _, ev := range l.FaultLog() {
		if ev.Label == label && ev.Action == "inject" && ev.Error != "" {
			return true
		}
	}
	return false
}
