package topology

import (
	"fmt"
	"regexp"
	"time"
)

// Built-in defaults, the first step of the resolution order
// built-in -> `defaults:` -> node.
const (
	DefaultASN          uint32 = 64512
	DefaultKind                = KindGoBGP
	DefaultHold                = 9 * time.Second
	DefaultKeepalive           = 3 * time.Second
	DefaultConnectRetry        = 1 * time.Second
	DefaultWithin              = 30 * time.Second
)

var labNameRE = regexp.MustCompile(`^[a-z][a-z0-9-]{0,23}$`)

// builder converts a rawTopology into a Topology, reporting every problem
// to the collector and carrying on so that all of them are found.
type builder struct {
	c *collector
	// Lab-wide values after `defaults:` was applied to the built-ins.
	asn      uint32
	asnPath  string
	kind     string
	kindPath string
	timers   resolvedTimers
	nodes    map[string]*Node
}

// build converts and validates raw. The result is meaningful only when the
// collector holds no errors.
func build(raw *rawTopology, c *collector) *Topology {
	b := &builder{c: c, nodes: map[string]*Node{}}
	t := &Topology{}
	switch {
	case raw.Name == nil:
		if !c.failedUnder("name") {
			c.add("name", "name is required")
		}
	case !labNameRE.MatchString(*raw.Name):
		c.add("name", fmt.Sprintf("lab name %q is invalid: use 1 to 24 lower-case letters, digits and '-', starting with a letter", *raw.Name))
	default:
		t.Name = *raw.Name
	}
	b.buildDefaults(raw.Defaults)
	t.Nodes = b.buildNodes(raw.Nodes)
	t.Sessions = b.buildSessions(raw.Peerings)
	b.checkInjectorPeers(t.Nodes, t.Sessions)
	t.Expectations = b.buildExpectations(raw.Expect, t.Sessions)
	t.Links = b.buildLinks(raw.Links)
	t.Faults = b.buildFaults(raw.Faults, t.Sessions)
	return t
}

// buildDefaults resolves the `defaults:` block over the built-in values.
func (b *builder) buildDefaults(d *rawDefaults) {
	b.asn, b.kind = DefaultASN, DefaultKind
	b.timers = resolvedTimers{Timers: Timers{Hold: DefaultHold, Keepalive: DefaultKeepalive, ConnectRetry: DefaultConnectRetry}}
	if d == nil {
		return
	}
	if d.ASN.Set {
		b.asn, b.asnPath = b.checkASN(d.ASN, "defaults.asn"), "defaults.asn"
	}
	if d.Kind != nil {
		b.kind, b.kindPath = *d.Kind, "defaults.kind"
		b.checkKind(b.kind, b.kindPath)
	}
	b.timers.apply(b.parseTimers(d.Timers, "defaults.timers"))
	b.checkTimers(b.timers)
}

// checkASN validates an AS number, reporting it at path; it returns 0 when
// the number is invalid.
func (b *builder) checkASN(n rawNumber, path string) uint32 {
	if !n.in(1, 1<<32-1) {
		b.c.add(path, fmt.Sprintf("%s is not a valid AS number (1..4294967295)", n.Text))
		return 0
	}
	return uint32(n.Value)
}

// checkKind reports an unknown node kind at path.
func (b *builder) checkKind(kind, path string) {
	switch kind {
	case KindGoBGP, KindBIRD, KindBIRD2, KindInjector:
	default:
		b.c.add(path, fmt.Sprintf("unknown kind %q (known: gobgp, bird, bird2, injector)", kind))
	}
}
