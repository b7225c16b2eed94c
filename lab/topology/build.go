package topology

import (
	"fmt"
	"github.com/peerlab/peerlab/internal/labname"
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
	// parsedTimers holds the timers blocks parsed without a problem: the
	// decoder shares one block among the nodes that merge it.
	parsedTimers map[*rawTimers]timerLayer
}

// build converts and validates raw, whose nodes come in order. The result is meaningful only when the
// collector holds no errors.
func build(raw *rawTopology, order nodeOrder, c *collector) *Topology {
	b := &builder{c: c, nodes: map[string]*Node{}, parsedTimers: map[*rawTimers]timerLayer{}}
	t := &Topology{}
	switch {
	case raw.Name == nil:
		if !c.failedUnder("name") {
			c.add("name", "name is required")
		}
	case labname.Check(*raw.Name) != "":
		c.add("name", fmt.Sprintf("lab name %q is invalid: it %s (%s)", *raw.Name, labname.Check(*raw.Name), labname.Rule))
	default:
		t.Name = *raw.Name
	}
	b.buildDefaults(raw.Defaults)
	t.Nodes = b.buildNodes(raw.Nodes, order)
	t.Sessions = b.buildSessions(raw.Peerings)
	b.checkInjectorPeers(t.Nodes, t.Sessions)
	t.Links = b.buildLinks(raw.Links)
	t.Calico = b.buildCalico(raw.Calico, t.Nodes)
	t.Faults = b.buildFaults(raw.Faults, t.Sessions)
	t.Expectations = b.buildExpectations(raw.Expect, t.Sessions, t.Faults, raw.Faults)
	if d, ok := b.parseDuration(raw.Duration, "duration"); ok {
		if d == 0 {
			b.c.add("duration", "duration must be longer than 0s (leave it out to end when the schedule and the expectations are done)")
		}
		t.Duration = d
	}
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
