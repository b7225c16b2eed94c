package exercise

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// healthyWithin bounds how long Start waits for the lab's sessions to be
// Established before it breaks anything.
const healthyWithin = 60 * time.Second

// Start writes the exercise's topology to topoFile, brings its lab up,
// waits until its sessions are Established (so the break, not a slow
// start, is what the student sees), then runs the break steps.
func (e *Exercise) Start(ctx context.Context, r Runner, topoFile string) error {
	file, err := e.WriteTopology(topoFile)
	if err != nil {
		return err
	}
	if err := r.Up(ctx, file); err != nil {
		return fmt.Errorf("exercise %s: %w", e.Name, err)
	}
	healthy := Exercise{Name: e.Name, Topology: e.Topology, Check: Check{Established: true}}
	if res := healthy.WaitCheck(ctx, r, healthyWithin); !res.OK {
		return fmt.Errorf("exercise %s: the lab did not come up healthy within %s: %s",
			e.Name, healthyWithin, strings.Join(res.Problems, "; "))
	}
	if err := e.RunSteps(ctx, r, e.Break); err != nil {
		return fmt.Errorf("exercise %s: break: %w", e.Name, err)
	}
	return nil
}

// RunSteps runs steps in order through `peerlab exec`, stopping at the
// first that fails.
func (e *Exercise) RunSteps(ctx context.Context, r Runner, steps []Step) error {
	for _, s := range steps {
		if s.Fault != "" {
			if err := r.Inject(ctx, e.Lab(), s.Fault, s.Node); err != nil {
				return err
			}
			continue
		}
		if out, err := r.Exec(ctx, e.Lab(), s.Node, s.Run); err != nil {
			return fmt.Errorf("%w: %s", err, strings.TrimSpace(out))
		}
	}
	return nil
}

// WaitCheck checks every second until the check passes or within is over,
// and returns the last verdict. BGP needs a few seconds after a fix.
func (e *Exercise) WaitCheck(ctx context.Context, r Runner, within time.Duration) Result {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	for {
		res := e.CheckLab(ctx, r)
		if res.OK {
			return res
		}
		select {
		case <-ctx.Done():
			return res
		case <-time.After(time.Second):
		}
	}
}

// SettleWithin bounds how long Check waits for sessions to come up once
// the cause is repaired: BIRD retries a refused or reset session after a
// few seconds (its connect retry and error wait timers), so a fix made a
// moment ago needs that long to show.
const SettleWithin = 45 * time.Second

// CheckSettled checks the lab once; when the cause is repaired (file and command
// checks pass) but sessions are not all Established yet, it calls waiting
// once and checks again every second for up to settle.
func (e *Exercise) CheckSettled(ctx context.Context, r Runner, settle time.Duration, waiting func(Result)) Result {
	res := e.CheckLab(ctx, r)
	if res.OK || !res.CauseFixed || settle <= 0 {
		return res
	}
	if waiting != nil {
		waiting(res)
	}
	return e.WaitCheck(ctx, r, settle)
}

// Stop tears the exercise's lab down.
func (e *Exercise) Stop(ctx context.Context, r Runner) error {
	if err := r.Down(ctx, e.Lab()); err != nil {
		return fmt.Errorf("exercise %s: %w", e.Name, err)
	}
	return nil
}
