package lab

import (
	"fmt"
	"sort"
)

// Kind builds nodes of one kind (gobgp, bird, …).
type Kind interface {
	// New builds a node; it must not start anything yet.
	New(spec NodeSpec) (Node, error)
}

// KindFunc adapts a function to the Kind interface.
type KindFunc func(spec NodeSpec) (Node, error)

// New calls f.
func (f KindFunc) New(spec NodeSpec) (Node, error) { return f(spec) }

// Registry holds the node kinds a lab can run. It is an instance, wired in one
// place (NewDefaultRegistry), so tests and embedders can build their own.
type Registry struct {
	kinds map[string]Kind
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{kinds: map[string]Kind{}} }

// Register adds a kind under name; a name can be registered only once.
func (r *Registry) Register(name string, k Kind) error {
	if _, ok := r.kinds[name]; ok {
		return fmt.Errorf("node kind %q is already registered", name)
	}
	r.kinds[name] = k
	return nil
}

// Lookup returns the kind registered under name.
func (r *Registry) Lookup(name string) (Kind, bool) {
	k, ok := r.kinds[name]
	return k, ok
}

// Names lists the registered kinds in order.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.kinds))
	for n := range r.kinds {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
