package netfault

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	"go.uber.org/zap"
)

// DefaultBGPPort is the port a zero [Target.Port] stands for.
const DefaultBGPPort = 179

// DefaultInterface is the interface a zero [Target.Interface] stands for:
// the node's interface on the lab bridge.
const DefaultInterface = "eth0"

var (
	// ErrAlreadyInjected is wrapped by Inject when the fault is already
	// present on the target.
	ErrAlreadyInjected = errors.New("fault already injected")
	// ErrInvalidTarget is wrapped by every error about a Target that a
	// fault cannot act on.
	ErrInvalidTarget = errors.New("invalid fault target")
	// ErrUnsupported is wrapped by Inject when the kernel lacks what the
	// fault needs, e.g. the netem qdisc.
	ErrUnsupported = errors.New("not supported by this kernel")
)

// Fault is one kind of network fault.
type Fault interface {
	// Name is the fault's registry name, e.g. "tcp179-drop".
	Name() string
	// Inject applies the fault to t. It returns an error wrapping
	// ErrAlreadyInjected if the fault is already present on t.
	Inject(ctx context.Context, t Target) error
	// Heal removes the fault from t. Healing a fault that is not present
	// does nothing and returns nil.
	Heal(ctx context.Context, t Target) error
}

// Target says where a fault applies.
type Target struct {
	// Node names the node, for logs and errors only.
	Node string
	// NSPath is the path of the node's network namespace, e.g.
	// /run/netns/plab-lab--r1. Required.
	NSPath string
	// Addr is the node's own address. snat-node-traffic only translates
	// BGP packets leaving from it, when given.
	Addr netip.Addr
	// Peer, when given, limits the filter and NAT faults to BGP traffic
	// to and from that address.
	Peer netip.Addr
	// Port is the BGP port; zero means 179.
	Port uint16
	// SNATAddr is the address snat-node-traffic translates the source to:
	// another address of the node, e.g. an extra loopback address.
	SNATAddr netip.Addr
	// Interface is the interface link-down and netem act on; "" means
	// eth0.
	Interface string
	// Log receives one line per inject and heal; nil logs nothing.
	Log *zap.Logger
}

// port returns the BGP port of t.
func (t Target) port() uint16 {
	if t.Port == 0 {
		return DefaultBGPPort
	}
	return t.Port
}

// iface returns the interface name of t.
func (t Target) iface() string {
	if t.Interface == "" {
		return DefaultInterface
	}
	return t.Interface
}

// logger returns t's logger scoped to fault and node.
func (t Target) logger(fault string) *zap.Logger {
	log := t.Log
	if log == nil {
		log = zap.NewNop()
	}
	return log.With(zap.String("fault", fault), zap.String("node", t.Node), zap.String("netns", t.NSPath))
}

// validate checks what every fault needs: a namespace path and well-formed
// addresses.
func (t Target) validate() error {
	if t.NSPath == "" {
		return fmt.Errorf("%w: node %q: no namespace path", ErrInvalidTarget, t.Node)
	}
	for _, a := range []struct {
		field string
		addr  netip.Addr
	}{{"addr", t.Addr}, {"peer", t.Peer}, {"snat_addr", t.SNATAddr}} {
		if !a.addr.IsValid() {
			continue
		}
		if a.addr.Is4In6() || a.addr.Zone() != "" {
			return fmt.Errorf("%w: node %q: %s %v: give plain IPv4 or IPv6 without a zone", ErrInvalidTarget, t.Node, a.field, a.addr)
		}
	}
	return nil
}

// describe names fault and target for error messages.
func describe(fault string, t Target) string {
	node := t.Node
	if node == "" {
		node = t.NSPath
	}
	return fmt.Sprintf("%s on %s", fault, node)
}
