package lab

import "github.com/peerlab/peerlab/lab/topology"

// NewDefaultRegistry returns a registry with every node kind peerlab ships.
// This is the one place kinds are wired.
func NewDefaultRegistry() *Registry {
	r := NewRegistry()
	mustRegister(r, topology.KindGoBGP, KindFunc(newGoBGPNode))
	return r
}

// mustRegister registers a built-in kind; a duplicate here is a programming
// error caught by the registry test, so it panics.
func mustRegister(r *Registry, name string, k Kind) {
	if err := r.Register(name, k); err != nil {
		panic(err)
	}
}
