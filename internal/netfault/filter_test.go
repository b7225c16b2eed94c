package netfault

import (
	"strings"
	"testing"
	"time"
)

// otherPort is a non-BGP port whose traffic no BGP fault may touch.
const otherPort = 8080

// TestFilterFaults injects each nftables filter fault on node a and checks
// real connects both ways: b connecting to a's listener (a's input hook)
// and a connecting to b's listener (a's output hook), over IPv4 and IPv6,
// on port 179 and on a lab-specific BGP port.
func TestFilterFaults(t *testing.T) {
	tests := []struct {
		name  string
		fault func() Fault
		v6    bool
		port  uint16
		in    outcome // b -> a
		out   outcome // a -> b
	}{
		{"drop v4", NewTCPDrop, false, 179, timedOut, timedOut},
		{"drop v6 port 1790", NewTCPDrop, true, 1790, timedOut, timedOut},
		{"reject v4", NewTCPReject, false, 179, refused, refused},
		{"reject v6", NewTCPReject, true, 179, refused, refused},
		{"icmp v4", NewICMPUnreachable, false, 179, hostUnrch, hostUnrch},
		// Linux maps ICMPv6 administratively prohibited to EACCES.
		{"icmp v6 port 1790", NewICMPUnreachable, true, 1790, denied, denied},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			lab := newLab(t, 2)
			addr := lab.addr4
			if tc.v6 {
				addr = lab.addr6
			}
			lab.serve("a", addr("a"), tc.port)
			lab.serve("b", addr("b"), tc.port)
			lab.serve("a", addr("a"), otherPort)
			lab.mustConnect("b", addr("a"), tc.port)
			lab.mustConnect("a", addr("b"), tc.port)

			f, target := tc.fault(), lab.target("a")
			target.Port = tc.port
			mustInject(t, f, target)
			for _, c := range []struct {
				from, to string
				want     outcome
			}{{"b", "a", tc.in}, {"a", "b", tc.out}} {
				// The outcome tells a silent drop (timeout) from an
				// answer (errno); the time it took is not asserted.
				got, took := lab.try(c.from, addr(c.to), tc.port)
				if got != c.want {
					t.Errorf("faulted %s -> %s:%d: got %s after %v, want %s", c.from, c.to, tc.port, got, took, c.want)
				}
			}
			lab.mustConnect("b", addr("a"), otherPort)
			rules := lab.ruleset("a")
			for _, want := range []string{"table inet " + TableName, f.Name() + "-input", f.Name() + "-output", `comment "peerlab:` + f.Name() + `"`} {
				if !strings.Contains(rules, want) {
					t.Errorf("nft list ruleset lacks %q:\n%s", want, rules)
				}
			}

			mustHeal(t, f, target)
			lab.mustConnect("b", addr("a"), tc.port)
			lab.mustConnect("a", addr("b"), tc.port)
			if rules := lab.ruleset("a"); strings.Contains(rules, TableName) {
				t.Errorf("after heal the ruleset still holds %s:\n%s", TableName, rules)
			}
		})
	}
}

// TestDropWithPeer limits tcp179-drop on a to peer b: c still connects.
func TestDropWithPeer(t *testing.T) {
	t.Parallel()
	lab := newLab(t, 3)
	lab.serve("a", lab.addr4("a"), DefaultBGPPort)
	f, target := NewTCPDrop(), lab.target("a")
	target.Peer = lab.addr4("b")
	mustInject(t, f, target)
	if got, _ := lab.try("b", lab.addr4("a"), DefaultBGPPort); got != timedOut {
		t.Errorf("peer b -> a: got %s, want %s", got, timedOut)
	}
	lab.mustConnect("c", lab.addr4("a"), DefaultBGPPort)
	mustHeal(t, f, target)
	lab.mustConnect("b", lab.addr4("a"), DefaultBGPPort)
}

// TestRejectResetsEstablishedSession checks that a session up before the
// fault is torn down by it: the next segment a sends is answered by a
// reset.
func TestRejectResetsEstablishedSession(t *testing.T) {
	t.Parallel()
	lab := newLab(t, 2)
	lab.serve("b", lab.addr4("b"), DefaultBGPPort)
	conn, err := lab.dial("a", lab.addr4("b"), DefaultBGPPort)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	f, target := NewTCPReject(), lab.target("a")
	mustInject(t, f, target)
	defer mustHeal(t, f, target)
	_ = conn.SetDeadline(time.Now().Add(dialTimeout))
	_, werr := conn.Write([]byte("x"))
	buf := make([]byte, 1)
	_, rerr := conn.Read(buf)
	if werr == nil && rerr == nil {
		t.Fatal("established session survived tcp179-reject")
	}
	if got := classify(rerr); got == timedOut {
		t.Fatalf("read after reject timed out; want a reset (write err %v)", werr)
	}
}

// TestFilterAddrMatchesFamily checks that a peer given as IPv4 leaves IPv6
// BGP traffic alone.
func TestFilterAddrMatchesFamily(t *testing.T) {
	t.Parallel()
	lab := newLab(t, 2)
	lab.serve("a", lab.addr4("a"), DefaultBGPPort)
	lab.serve("a", lab.addr6("a"), DefaultBGPPort)
	f, target := NewTCPReject(), lab.target("a")
	target.Peer = lab.addr4("b")
	mustInject(t, f, target)
	if got, _ := lab.try("b", lab.addr4("a"), DefaultBGPPort); got != refused {
		t.Errorf("b -> a over IPv4: got %s, want %s", got, refused)
	}
	lab.mustConnect("b", lab.addr6("a"), DefaultBGPPort)
	mustHeal(t, f, target)
}
