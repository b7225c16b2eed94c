package netfault

import (
	"errors"
	"fmt"
	"sort"
	"sync"
)

var (
	// ErrDuplicateFault is returned by Register for a name already taken.
	ErrDuplicateFault = errors.New("fault already registered")
	// ErrUnknownFault is returned by Get for a name nobody registered.
	ErrUnknownFault = errors.New("unknown fault")
)

// Registry maps fault names to faults. Its methods are safe for
// concurrent use.
type Registry struct {
	mu     sync.RWMutex
	faults map[string]Fault
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{faults: map[string]Fault{}}
}

// Register adds f under f.Name(). It refuses an empty name and a name
// already registered.
func (r *Registry) Register(f Fault) error {
	name := f.Name()
	if name == "" {
		return errors.New("register fault: empty name")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.faults[name]; dup {
		return fmt.Errorf("register fault %q: %w", name, ErrDuplicateFault)
	}
	r.faults[name] = f
	return nil
}

// Get returns the fault registered under name.
func (r *Registry) Get(name string) (Fault, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	f, ok := r.faults[name]
	if !ok {
		return nil, fmt.Errorf("%w: %q (known: %v)", ErrUnknownFault, name, r.namesLocked())
	}
	return f, nil
}

// Names returns the registered names, sorted.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.namesLocked()
}

func (r *Registry) namesLocked() []string {
	names := make([]string, 0, len(r.faults))
	for n := range r.faults {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Default returns a new registry holding every network fault of this
// package, netem with [DefaultNetemParams]. This is the one place they are
// wired.
func Default() *Registry {
	r := NewRegistry()
	for _, f := range []Fault{
		NewTCPDrop(),
		NewTCPReject(),
		NewICMPUnreachable(),
		NewSNATNodeTraffic(),
		NewLinkDown(),
		NewNetem(DefaultNetemParams()),
	} {
		if err := r.Register(f); err != nil {
			// Two built-in faults with one name is a bug caught by the
			// package tests, not a runtime condition.
			panic(fmt.Sprintf("netfault: default registry: %v", err))
		}
	}
	return r
}
