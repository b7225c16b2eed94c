package lab

import (
	"net"
	"net/netip"

	"github.com/peerlab/peerlab/internal/bird"
	"github.com/peerlab/peerlab/internal/netfault"
	"github.com/peerlab/peerlab/lab/topology"
)

// NewDefaultRegistry returns a registry with every node kind peerlab ships.
// This is the one place kinds are wired.
func NewDefaultRegistry() *Registry {
	r := NewRegistry()
	mustRegister(r, topology.KindGoBGP, KindFunc(newGoBGPNode))
	mustRegister(r, topology.KindBIRD, newBIRDNode(bird.Bird1))
	mustRegister(r, topology.KindBIRD2, newBIRDNode(bird.Bird2))
	mustRegister(r, topology.KindInjector, KindFunc(newInjectorNode))
	return r
}

// mustRegister registers a built-in kind; a duplicate here is a programming
// error caught by the registry test, so it panics.
func mustRegister(r *Registry, name string, k Kind) {
	if err := r.Register(name, k); err != nil {
		panic(err)
	}
}

// NewDefaultFaultRegistry returns a registry with every fault of
// topology.FaultNames(). Network faults and source-ip-missing act on the
// node's namespace; md5-mismatch, md5-one-sided and wrong-ip-autodetect
// reconfigure the node and its peers (fault_config.go, fault_wrongip.go);
// the others are applied by the node itself
// (FaultInjector), so each node kind decides what it can reproduce. This
// is the one place faults are wired.
func NewDefaultFaultRegistry() *FaultRegistry {
	r := NewFaultRegistry()
	fixed := func(mk func() netfault.Fault) netFault {
		return netFault{make: func(*topology.Fault) (netfault.Fault, error) { return mk(), nil }}
	}
	mustRegisterFault(r, netfault.NameTCPDrop, fixed(netfault.NewTCPDrop))
	mustRegisterFault(r, netfault.NameTCPReject, fixed(netfault.NewTCPReject))
	mustRegisterFault(r, netfault.NameICMPUnreachable, fixed(netfault.NewICMPUnreachable))
	mustRegisterFault(r, netfault.NameLinkDown, fixed(netfault.NewLinkDown))
	mustRegisterFault(r, netfault.NameNetem, netFault{make: netemFault})
	mustRegisterFault(r, netfault.NameSNATNodeTraffic, snatFault{})
	mustRegisterFault(r, "source-ip-missing", sourceIPFault{})
	// Config faults that change both ends of a session, or several nodes.
	mustRegisterFault(r, "md5-mismatch", md5Fault{})
	mustRegisterFault(r, "md5-one-sided", md5Fault{oneSided: true})
	mustRegisterFault(r, "wrong-ip-autodetect", wrongIPFault{})
	// Cluster faults act on node roles (role_faults.go).
	mustRegisterFault(r, "apiserver-proxy-down", apiserverProxyDownFault{})
	mustRegisterFault(r, "apiserver-proxy-bad-upstream", apiserverProxyBadUpstreamFault{})
	mustRegisterFault(r, "apiserver-down", apiserverDownFault{})
	for _, name := range []string{
		"as-mismatch", "router-id-conflict",
		"hold-timer-expiry", "bird-down", "bird-unconfigured", "port179-in-use",
	} {
		mustRegisterFault(r, name, nodeFault{})
	}
	return r
}

// mustRegisterFault registers a built-in fault; a duplicate is a
// programming error caught by the registry test.
func mustRegisterFault(r *FaultRegistry, name string, k FaultKind) {
	if err := r.Register(name, k); err != nil {
		panic(err)
	}
}

// netlinkPrefix converts a netip.Prefix for netlink.
func netlinkPrefix(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}
