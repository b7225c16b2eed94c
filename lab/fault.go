package lab

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"go.uber.org/zap"

	"github.com/peerlab/peerlab/lab/topology"
)

// ErrFaultUnsupported is returned when a fault cannot be applied to a
// node of some kind or in some mode.
var ErrFaultUnsupported = errors.New("fault not supported here")

// HealFunc undoes one injected fault.
type HealFunc func(ctx context.Context) error

// FaultKind injects one kind of fault (tcp179-drop, as-mismatch, …) into a
// running lab. Inject returns how to heal that very injection, so a kind
// can keep whatever healing needs (saved routes, the original config).
type FaultKind interface {
	Inject(ctx context.Context, l *Lab, f *topology.Fault) (HealFunc, error)
}

// FaultInjector is implemented by nodes that apply node-level faults to
// themselves: config and process faults such as as-mismatch or bird-down.
// A node returns an error wrapping ErrFaultUnsupported for a fault its kind
// cannot reproduce.
type FaultInjector interface {
	InjectFault(ctx context.Context, f *topology.Fault) (HealFunc, error)
}

// FaultRegistry maps fault names to kinds. Like the node-kind Registry it
// is an instance, wired in one place (NewDefaultFaultRegistry).
type FaultRegistry struct {
	kinds map[string]FaultKind
}

// NewFaultRegistry returns an empty registry.
func NewFaultRegistry() *FaultRegistry { return &FaultRegistry{kinds: map[string]FaultKind{}} }

// Register adds a fault kind under name; a name can be registered only once.
func (r *FaultRegistry) Register(name string, k FaultKind) error {
	if _, ok := r.kinds[name]; ok {
		return fmt.Errorf("fault %q is already registered", name)
	}
	r.kinds[name] = k
	return nil
}

// Lookup returns the kind registered under name.
func (r *FaultRegistry) Lookup(name string) (FaultKind, bool) {
	k, ok := r.kinds[name]
	return k, ok
}

// Names lists the registered faults in order.
func (r *FaultRegistry) Names() []string {
	out := make([]string, 0, len(r.kinds))
	for n := range r.kinds {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// nodeFault asks the node itself to apply the fault (FaultInjector).
type nodeFault struct{}

// Inject implements FaultKind.
func (nodeFault) Inject(ctx context.Context, l *Lab, f *topology.Fault) (HealFunc, error) {
	fi, ok := l.nodes[f.Node].(FaultInjector)
	if !ok {
		return nil, fmt.Errorf("node %s (kind %s): %w", f.Node, l.topo.Node(f.Node).Kind, ErrFaultUnsupported)
	}
	return fi.InjectFault(ctx, f)
}

// FaultEvent is one fault injected or healed, for the report.
type FaultEvent struct {
	AtMS   int64  `json:"at_ms"`
	Action string `json:"action"` // inject or heal
	Fault  string `json:"fault"`
	// Label is the fault's `name:` in the topology ("" when it has none
	// or was injected through the API).
	Label string `json:"name,omitempty"`
	Node  string `json:"node"`
	Peer  string `json:"peer,omitempty"`
	Error string `json:"error,omitempty"`
}

// faultKey identifies one injected fault.
type faultKey struct{ name, node, peer string }

// InjectFault applies f now. Injecting a fault already active on the same
// node and peer is an error.
func (l *Lab) InjectFault(ctx context.Context, f *topology.Fault) error {
	err := l.injectFault(ctx, f)
	l.logFault("inject", f, err)
	return err
}

func (l *Lab) injectFault(ctx context.Context, f *topology.Fault) error {
	if l.faults == nil {
		return fmt.Errorf("fault %s: %w: no fault registry", f.Name, ErrFaultUnsupported)
	}
	kind, ok := l.faults.Lookup(f.Name)
	if !ok {
		return fmt.Errorf("fault %s: unknown fault (have %v)", f.Name, l.faults.Names())
	}
	if l.nodes[f.Node] == nil {
		return fmt.Errorf("fault %s: no node %s in lab %s", f.Name, f.Node, l.topo.Name)
	}
	key := faultKey{f.Name, f.Node, f.Peer}
	l.mu.Lock()
	_, active := l.active[key]
	l.mu.Unlock()
	if active {
		return fmt.Errorf("fault %s on %s: already injected", f.Name, f.Node)
	}
	heal, err := kind.Inject(ctx, l, f)
	if err != nil {
		return fmt.Errorf("inject %s on %s: %w", f.Name, f.Node, err)
	}
	l.mu.Lock()
	l.active[key] = heal
	l.mu.Unlock()
	return nil
}

// HealFault undoes f. Healing a fault that is not active does nothing.
func (l *Lab) HealFault(ctx context.Context, f *topology.Fault) error {
	key := faultKey{f.Name, f.Node, f.Peer}
	l.mu.Lock()
	heal, ok := l.active[key]
	delete(l.active, key)
	l.mu.Unlock()
	if !ok {
		return nil
	}
	err := heal(ctx)
	if err != nil {
		err = fmt.Errorf("heal %s on %s: %w", f.Name, f.Node, err)
	}
	l.logFault("heal", f, err)
	return err
}

// logFault records a fault action for the report and the log.
func (l *Lab) logFault(action string, f *topology.Fault, err error) {
	ev := FaultEvent{
		AtMS: time.Since(l.started).Milliseconds(), Action: action,
		Fault: f.Name, Label: f.Label, Node: f.Node, Peer: f.Peer,
	}
	if err != nil {
		ev.Error = err.Error()
	}
	l.mu.Lock()
	if len(l.faultLog) >= maxFaultLog {
		l.faultLog = append(l.faultLog[:0], l.faultLog[maxFaultLog/2:]...)
		l.faultBase += maxFaultLog / 2
	}
	l.faultLog = append(l.faultLog, ev)
	l.mu.Unlock()
	l.log.Info("fault "+action, zap.String("fault", f.Name), zap.String("node", f.Node),
		zap.String("peer", f.Peer), zap.Error(err))
}

// maxFaultLog bounds the fault log a long-running lab keeps: past it the
// older half is dropped (a harness injecting and healing in a loop for
// days would otherwise grow it without end).
const maxFaultLog = 10000

// FaultLog returns the faults injected and healed so far (the last
// maxFaultLog at most).
func (l *Lab) FaultLog() []FaultEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]FaultEvent(nil), l.faultLog...)
}

// FaultLogSince returns the fault log entries recorded after the first
// seq ones and the seq to ask with next time; entries the lab dropped are
// skipped.
func (l *Lab) FaultLogSince(seq int) ([]FaultEvent, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	next := l.faultBase + len(l.faultLog)
	i := max(seq-l.faultBase, 0)
	if i >= len(l.faultLog) {
		return nil, next
	}
	return append([]FaultEvent(nil), l.faultLog[i:]...), next
}

// runSchedule injects and heals the topology's faults at their times,
// counted from when the lab is up, until ctx ends. It closes
// l.scheduleDone when it returns.
func (l *Lab) runSchedule(ctx context.Context, upAt time.Time) {
	defer close(l.scheduleDone)
	type action struct {
		at   time.Duration
		heal bool
		f    *topology.Fault
	}
	var plan []action
	for _, f := range l.topo.Faults {
		plan = append(plan, action{at: f.At, f: f})
		if f.HealAt > 0 {
			plan = append(plan, action{at: f.HealAt, heal: true, f: f})
		}
	}
	sort.SliceStable(plan, func(i, j int) bool { return plan[i].at < plan[j].at })
	for _, a := range plan {
		t := time.NewTimer(time.Until(upAt.Add(a.at)))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		if a.heal {
			_ = l.HealFault(ctx, a.f)
		} else {
			_ = l.InjectFault(ctx, a.f)
		}
	}
}
