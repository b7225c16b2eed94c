package lab

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/peerlab/peerlab/lab/topology"
)

// processFaultCase is one process fault (or source-ip-missing) and what
// each end of the faulted sessions shows while it is on.
type processFaultCase struct {
	fault string
	// node and peer are what the faulted node and its peer show, in order.
	node, peer []seen
	// answer makes the test check what Sessions of the faulted node
	// returns meanwhile: an error containing nodeErr, or with nodeErr ""
	// no error and nodeSessions sessions.
	answer       bool
	nodeErr      string
	nodeSessions int
	// nodeLog is a line the faulted node's bird.log must hold.
	nodeLog string
	// check runs while the fault is on, before heal.
	check func(fl *faultLab)
}

// TestProcessFaultsOnBIRD injects each process fault on a BIRD 1.6 node
// and a BIRD 2 node with established sessions, checks what both ends show
// (docs/faults.md quotes it), heals, and waits for Established again.
func TestProcessFaultsOnBIRD(t *testing.T) {
	for _, tc := range []processFaultCase{
		{
			fault:   "hold-timer-expiry",
			peer:    []seen{{states: []string{"Idle", "Active", "Connect", "OpenSent"}, lastError: errHoldTimer}},
			answer:  true,
			nodeErr: "is frozen (SIGSTOP by hold-timer-expiry)",
			check:   checkHoldTimerNotification,
		},
		{
			fault:   "bird-down",
			peer:    []seen{{lastError: "Received: Administrative shutdown"}, {states: []string{"Active"}, lastError: errRefused}},
			answer:  true,
			nodeErr: "is not running",
		},
		{
			fault:        "bird-unconfigured",
			peer:         []seen{{lastError: "Received: Peer de-configured"}, {states: []string{"Active"}, lastError: errRefused}},
			answer:       true,
			nodeSessions: 0, // BIRD runs, without BGP protocols
		},
		{
			// The squatter accepts and never answers: the peer waits in
			// OpenSent (until BIRD's initial hold time of 240 s).
			fault:   "port179-in-use",
			node:    []seen{{states: []string{"Down"}, lastError: errNoListening}},
			nodeLog: "bind: Address already in use",
			peer:    []seen{{lastError: "Received: Administrative shutdown"}, {states: []string{"OpenSent"}, anyError: true}},
		},
	} {
		t.Run(tc.fault, func(t *testing.T) {
			t.Parallel()
			runNodeFault(t, tc, nil)
		})
	}
}

// TestSourceIPMissing takes the node address off a BIRD 1.6 node and a
// BIRD 2 node: their peers' hold timers expire, BIRD 1.6 cannot open its
// listening socket on the address (`listen bgp address`) and disables the
// protocol, BIRD 2 cannot bind its outgoing connections and says
// "Connection closed"; both log the bind error. Heal puts the address back
// and the sessions come up.
func TestSourceIPMissing(t *testing.T) {
	t.Parallel()
	tc := processFaultCase{
		fault:   "source-ip-missing",
		peer:    []seen{{lastError: errHoldTimer}},
		nodeLog: "bind: Cannot assign requested address",
		check: func(fl *faultLab) {
			fl.expectSeq("x1", "y1", time.Time{}, seen{states: []string{"Down"}, lastError: errNoListening})
			fl.expectSeq("x2", "y2", time.Time{}, seen{states: connecting, lastError: errClosed})
			for _, n := range []string{"x1", "x2"} {
				fl.checkAddrs(n, false)
			}
		},
	}
	runNodeFault(t, tc, func(fl *faultLab) {
		for _, n := range []string{"x1", "x2"} {
			fl.checkAddrs(n, true)
		}
	})
}

// runNodeFault runs one case on a fresh fault lab; healed runs after the
// heal.
func runNodeFault(t *testing.T, tc processFaultCase, healed func(fl *faultLab)) {
	fl := upFaultLab(t, faultTopology(faultLabName(t), topology.KindBIRD2, false))
	var faults []*topology.Fault
	var injected time.Time
	for _, p := range faultPairs {
		f := &topology.Fault{Name: tc.fault, Node: p.node}
		faults = append(faults, f)
		injected = fl.inject(f)
	}
	for _, p := range faultPairs {
		fl.expectSeq(p.peer, p.node, injected, tc.peer...)
		fl.expectSeq(p.node, p.peer, injected, tc.node...)
		if tc.nodeLog != "" {
			fl.waitLog(p.node, tc.nodeLog)
		}
		if tc.answer {
			fl.checkNodeAnswer(p.node, tc.nodeErr, tc.nodeSessions)
		}
	}
	if tc.check != nil {
		tc.check(fl)
	}
	fl.t.Logf("%s: x1's peer y1 shows:\n%s", tc.fault, fl.showProtocols("y1"))
	fl.logReport()
	var healedAt time.Time
	for _, f := range faults {
		healedAt = fl.heal(f)
	}
	for _, p := range faultPairs {
		fl.waitEstablished(p.peer, p.node, healedAt)
		fl.waitEstablished(p.node, p.peer, healedAt)
	}
	if healed != nil {
		healed(fl)
	}
}

// checkNodeAnswer checks what Sessions of a faulted node returns: an error
// containing wantErr, or no error and n sessions.
func (fl *faultLab) checkNodeAnswer(node, wantErr string, n int) {
	fl.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ss, err := fl.Node(node).Sessions(ctx)
	switch {
	case wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)):
		fl.t.Errorf("%s: Sessions = %v, %v; want an error saying %q", node, ss, err, wantErr)
	case wantErr == "" && (err != nil || len(ss) != n):
		fl.t.Errorf("%s: Sessions = %+v, %v; want %d sessions", node, ss, err, n)
	}
}

// checkHoldTimerNotification checks that the peers of the frozen nodes
// report the NOTIFICATION they sent, 4/0.
func checkHoldTimerNotification(fl *faultLab) {
	fl.t.Helper()
	for _, p := range faultPairs {
		o, _ := fl.w.last(p.peer, p.node)
		n := o.status.Notification
		if n == nil || n.Code != 4 || n.Subcode != 0 || !n.Sent {
			fl.t.Errorf("%s -> %s: notification %v, want 4/0 sent", p.peer, p.node, n)
		}
	}
}

// checkAddrs checks whether node's eth0 holds its lab address (and not the
// fault's replacement), or the replacement instead.
func (fl *faultLab) checkAddrs(node string, labAddr bool) {
	fl.t.Helper()
	own := fl.topo.Node(node).Address
	b := own.As4()
	b[3] += 100
	repl := netip.AddrFrom4(b)
	var have []netip.Addr
	err := fl.ns.namespace(node).Do(func() error {
		link, err := netlink.LinkByName("eth0")
		if err != nil {
			return err
		}
		addrs, err := netlink.AddrList(link, netlink.FAMILY_V4)
		for _, a := range addrs {
			ip, _ := netip.AddrFromSlice(a.IP)
			have = append(have, ip.Unmap())
		}
		return err
	})
	if err != nil {
		fl.t.Fatalf("addresses of %s: %v", node, err)
	}
	want, gone := own, repl
	if !labAddr {
		want, gone = repl, own
	}
	if !containsAddr(have, want) || containsAddr(have, gone) {
		fl.t.Errorf("%s's eth0 has %v, want %s and not %s", node, have, want, gone)
	}
}

// containsAddr reports whether list holds a.
func containsAddr(list []netip.Addr, a netip.Addr) bool {
	for _, x := range list {
		if x == a {
			return true
		}
	}
	return false
}

// TestSourceIPReplacementAddress covers how the replacement address is
// chosen and which are refused.
func TestSourceIPReplacementAddress(t *testing.T) {
	topo, err := topology.Parse("t.yaml", []byte(`name: t
defaults: {asn: 64512}
nodes:
  a: {address: 10.0.0.1}
  b: {address: 10.0.0.101}
  c: {address: 10.0.0.200}
  v6: {address: "fd00::1", router-id: 10.9.9.9}
peerings:
  - mesh: [a, b, c]
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		node, param, want, err string
	}{
		{node: "c", want: "10.0.0.100/24"},                          // 200 + 100 passes 254: 200 - 100
		{node: "a", err: "is node b's"},                             // 10.0.0.101 is taken
		{node: "a", param: "10.0.0.77", want: "10.0.0.77/24"},       // params.address
		{node: "a", param: "10.0.1.77", err: "segment 10.0.0.0/24"}, // another segment
		{node: "a", param: "10.0.0.1", err: "want another address"}, // the address itself
		{node: "a", param: "not-an-ip", err: "params.address"},      // unparsable
		{node: "v6", err: "IPv6"},                                   // IPv4 only
	} {
		t.Run(tc.node+"/"+tc.param, func(t *testing.T) {
			f := &topology.Fault{Name: "source-ip-missing", Node: tc.node}
			if tc.param != "" {
				f.Params = map[string]string{"address": tc.param}
			}
			old := netip.PrefixFrom(topo.Node(tc.node).Address, 24)
			got, err := replacementAddress(topo, f, old)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("replacementAddress = %v, %v; want an error with %q", got, err, tc.err)
				}
				return
			}
			if err != nil || got.String() != tc.want {
				t.Fatalf("replacementAddress = %v, %v; want %s", got, err, tc.want)
			}
		})
	}
}
