package lab

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/peerlab/peerlab/lab/topology"
)

// configFaultCase is one config fault on a small namespace lab: node n,
// peer p (and, for some, a third node q).
type configFaultCase struct {
	name string
	// yaml is the topology; %[1]s is the lab name, %[2]s the test's 10.A.B.
	yaml  string
	fault string
	// peer limits the fault to the session with p; "" for all sessions.
	peer   string
	params string
	// wantN and wantP check n's and p's view of their session while the
	// fault is active; each returns "" when the view is the promised one.
	wantN, wantP func(SessionStatus) string
}

// Expected views, as docs/faults-config.md describes them.
var (
	// notifSent and notifRecv want a NOTIFICATION code/subcode this end
	// sent or received, and, for BIRD, BIRD's last error text.
	notifSent = func(code, sub uint8, text string) func(SessionStatus) string {
		return notifWant(code, sub, true, text)
	}
	notifRecv = func(code, sub uint8, text string) func(SessionStatus) string {
		return notifWant(code, sub, false, text)
	}
	// silentDown wants a session that is not up and saw no NOTIFICATION:
	// what TCP MD5 and unreachable neighbors look like at an end whose
	// configuration changed (its protocol restarted afresh).
	silentDown = func(states ...string) func(SessionStatus) string {
		return func(s SessionStatus) string {
			if s.Notification != nil {
				return fmt.Sprintf("notification %v, want none", s.Notification)
			}
			return stateIn(s, states)
		}
	}
	// reconfiguredDown is the same at the end that kept its
	// configuration: its last error is the Cease the other end sent when
	// its reconfiguration restarted the session.
	reconfiguredDown = func(text string, states ...string) func(SessionStatus) string {
		return func(s SessionStatus) string {
			if why := notifRecv(6, 6, text)(s); why != "" {
				return why
			}
			return stateIn(s, states)
		}
	}
)

// stateIn checks s is in one of states.
func stateIn(s SessionStatus, states []string) string {
	for _, st := range states {
		if s.State == st {
			return ""
		}
	}
	return fmt.Sprintf("state %q, want one of %v", s.State, states)
}

func notifWant(code, sub uint8, sent bool, text string) func(SessionStatus) string {
	return func(s SessionStatus) string {
		n := s.Notification
		switch {
		case s.Established():
			return "Established"
		case n == nil || n.Code != code || n.Subcode != sub || n.Sent != sent:
			return fmt.Sprintf("notification %v, want %d/%d sent=%v", n, code, sub, sent)
		case text != "" && s.LastError != text:
			return fmt.Sprintf("last error %q, want %q", s.LastError, text)
		}
		return ""
	}
}

// pairYAML is a two-node iBGP lab of kinds kn and kp, with extra session
// keys.
func pairYAML(kn, kp, session string) string {
	return `name: %[1]s
defaults: {asn: 64512, timers: {hold: 9s, keepalive: 3s, connect-retry: 2s}}
nodes:
  n: {kind: ` + kn + `, address: %[2]s.1, prefixes: [10.244.1.0/24]}
  p: {kind: ` + kp + `, address: %[2]s.2, prefixes: [10.244.2.0/24]}
peerings:
  - between: [n, p]` + session + "\n"
}

// birdCfgChange is BIRD's last error after the peer's reconfiguration
// restarted the session.
const birdCfgChange = "Received: Other configuration change"

func configFaultCases() []configFaultCase {
	badASSent := notifSent(2, 2, "BGP Error: Bad peer AS")
	badASRecv := notifRecv(2, 2, "Received: Bad peer AS")
	// Both BIRD ends read the other's OPEN and refuse it.
	badIDSent := notifSent(2, 3, "BGP Error: Bad BGP identifier")
	return []configFaultCase{
		{name: "as-mismatch-bird", yaml: pairYAML("bird", "bird2", ""), fault: "as-mismatch", peer: "p",
			wantN: badASSent, wantP: badASRecv},
		{name: "as-mismatch-bird2", yaml: pairYAML("bird2", "bird", ""), fault: "as-mismatch",
			wantN: badASSent, wantP: badASRecv},
		{name: "as-mismatch-gobgp", yaml: pairYAML("gobgp", "bird2", ""), fault: "as-mismatch", peer: "p",
			wantN: notifSent(2, 2, ""), wantP: badASRecv},
		{name: "rid-bird", yaml: pairYAML("bird", "bird2", ""), fault: "router-id-conflict", peer: "p",
			wantN: badIDSent, wantP: badIDSent},
		{name: "rid-bird2", yaml: pairYAML("bird2", "bird", ""), fault: "router-id-conflict", peer: "p",
			wantN: badIDSent, wantP: badIDSent},
		{name: "rid-gobgp", yaml: pairYAML("gobgp", "bird", ""), fault: "router-id-conflict", peer: "p",
			wantN: anyBadID, wantP: anyBadID},
		{name: "md5-bird", yaml: pairYAML("bird", "bird2", ""), fault: "md5-mismatch", peer: "p",
			wantN: silentDown("Connect", "Active"), wantP: silentDown("Connect", "Active")},
		{name: "md5-bird2-pw", yaml: pairYAML("bird2", "bird", "\n    password: s3cret"), fault: "md5-mismatch",
			wantN: silentDown("Connect", "Active"), wantP: reconfiguredDown(birdCfgChange, "Connect", "Active")},
		{name: "md5-gobgp", yaml: pairYAML("gobgp", "gobgp", ""), fault: "md5-mismatch", peer: "p",
			wantN: silentDown("Connect", "Active", "Idle"), wantP: silentDown("Connect", "Active", "Idle")},
		{name: "md5-1s-bird", yaml: pairYAML("bird", "bird2", ""), fault: "md5-one-sided", peer: "p",
			wantN: silentDown("Connect", "Active"), wantP: reconfiguredDown(birdCfgChange, "Connect", "Active")},
		{name: "md5-1s-bird2", yaml: pairYAML("bird2", "gobgp", ""), fault: "md5-one-sided", params: "password: other",
			wantN: silentDown("Connect", "Active"), wantP: reconfiguredDown("", "Connect", "Active", "Idle")},
		{name: "wrongip-bird", yaml: pairYAML("bird", "bird2", ""), fault: "wrong-ip-autodetect",
			wantN: silentDown("Connect", "Active"), wantP: silentDown("Connect", "Active")},
		{name: "wrongip-bird2", yaml: pairYAML("bird2", "gobgp", ""), fault: "wrong-ip-autodetect", params: "address: 192.168.122.1",
			wantN: silentDown("Connect", "Active"), wantP: silentDown("Connect", "Active", "Idle")},
	}
}

// anyBadID wants the session down with NOTIFICATION 2/3 Bad BGP
// Identifier, sent or received: both ends check the identifier, and which
// one reads the other's OPEN first decides who sends it.
func anyBadID(s SessionStatus) string {
	if s.Established() || s.Notification == nil || s.Notification.Code != 2 || s.Notification.Subcode != 3 {
		return fmt.Sprintf("state %s, notification %v, want 2/3", s.State, s.Notification)
	}
	return ""
}

// TestConfigFaults injects every config fault into a small namespace lab
// per case, for BIRD 1.6, BIRD 2 and gobgp nodes: the sessions go from
// Established to the state docs/faults-config.md promises, and back to
// Established once healed.
func TestConfigFaults(t *testing.T) {
	requireBIRD(t)
	t.Setenv(AgentExeEnv, builtPeerlab(t))
	cases := configFaultCases()
	if len(cases) == 0 {
		t.Fatal("no cases")
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			runConfigFault(t, i, tc)
		})
	}
}

// configFaultLab brings up yaml as a namespace lab named after the test.
func configFaultLab(t *testing.T, i int, yaml, faults string) *Lab {
	t.Helper()
	h := fnv.New32a()
	fmt.Fprintf(h, "%s/%d", t.Name(), os.Getpid())
	v := h.Sum32()
	name := fmt.Sprintf("cf%05x-%d", v&0xfffff, i)
	base := fmt.Sprintf("10.%d.%d", 150+v%50, int((v>>8)%120)+20+i)
	topo, err := topology.Parse(name+".yaml", []byte(fmt.Sprintf(yaml, name, base)+faults))
	if err != nil {
		t.Fatalf("topology: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	l, err := Up(ctx, topo, Options{Logger: zaptest.NewLogger(t), StateDir: t.TempDir(), Mode: ModeNamespace})
	if err != nil {
		t.Fatalf("up: %v", err)
	}
	t.Cleanup(func() {
		if err := l.Down(); err != nil {
			t.Errorf("down: %v", err)
		}
	})
	return l
}

func runConfigFault(t *testing.T, i int, tc configFaultCase) {
	l := configFaultLab(t, i, tc.yaml, "")
	ctx := context.Background()
	start := time.Now()
	waitAll(t, l, "Established before the fault", 40*time.Second, func(s SessionStatus) string {
		if !s.Established() {
			return "not Established"
		}
		return ""
	})
	t.Logf("established after %v", time.Since(start).Round(time.Millisecond))

	f := &topology.Fault{Name: tc.fault, Node: "n", Peer: tc.peer}
	f.Params = faultParams(t, l.Topology(), tc)
	if err := l.InjectFault(ctx, f); err != nil {
		t.Fatalf("inject: %v", err)
	}
	injected := time.Now()
	checkFaultView(t, l, tc)
	t.Logf("fault seen after %v", time.Since(injected).Round(time.Millisecond))
	if err := l.HealFault(ctx, f); err != nil {
		t.Fatalf("heal: %v", err)
	}
	healed := time.Now()
	waitAll(t, l, "Established after heal", 50*time.Second, func(s SessionStatus) string {
		if !s.Established() {
			return "not Established"
		}
		return ""
	})
	t.Logf("established again %v after heal", time.Since(healed).Round(time.Millisecond))
}

// faultParams gets the fault's params as the loader fills them in, by
// loading the lab's topology with the fault scheduled.
func faultParams(t *testing.T, topo *topology.Topology, tc configFaultCase) map[string]string {
	t.Helper()
	doc := fmt.Sprintf("name: x\ndefaults: {asn: 64512}\nnodes:\n  n: {address: 10.0.0.1}\n  p: {address: 10.0.0.2}\npeerings:\n  - between: [n, p]\nfaults:\n  - {at: 1s, fault: %s, node: n", tc.fault)
	if tc.peer != "" {
		doc += ", peer: " + tc.peer
	}
	if tc.params != "" {
		doc += ", params: {" + tc.params + "}"
	}
	doc += "}\n"
	ft, err := topology.Parse("params.yaml", []byte(doc))
	if err != nil {
		t.Fatalf("fault params: %v", err)
	}
	p := ft.Faults[0].Params
	if tc.fault == "router-id-conflict" && tc.peer != "" {
		p["router-id"] = topo.Node(tc.peer).RouterID.String()
	}
	return p
}

// checkFaultView waits until n's and p's views of their session are the
// promised ones, then checks they stay so for a few seconds.
func checkFaultView(t *testing.T, l *Lab, tc configFaultCase) {
	t.Helper()
	check := func(s SessionStatus) string {
		switch {
		case s.Local == "n" && s.Remote == "p":
			return tc.wantN(s)
		case s.Local == "p" && s.Remote == "n":
			return tc.wantP(s)
		}
		return ""
	}
	waitAll(t, l, "the fault's view", 30*time.Second, check)
	time.Sleep(3 * time.Second)
	waitAll(t, l, "the fault's view, still", time.Second, check)
	ss, _ := l.Sessions(context.Background())
	for _, s := range ss {
		t.Logf("%s->%s: state %s, last error %q, notification %v", s.Local, s.Remote, s.State, s.LastError, s.Notification)
	}
}

// waitAll polls every session end until bad returns "" for each, and
// fails with the last views when timeout passes.
func waitAll(t *testing.T, l *Lab, what string, timeout time.Duration, bad func(SessionStatus) string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		ss, err := l.Sessions(ctx)
		cancel()
		var problems []string
		if err != nil {
			problems = append(problems, err.Error())
		}
		if len(ss) == 0 {
			problems = append(problems, "no sessions")
		}
		for _, s := range ss {
			if why := bad(s); why != "" {
				problems = append(problems, fmt.Sprintf("%s->%s: %s (state %s, last error %q, notification %v)",
					s.Local, s.Remote, why, s.State, s.LastError, s.Notification))
			}
		}
		if len(problems) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s:\n%s", timeout, what, strings.Join(problems, "\n"))
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// TestWrongIPOnGoBGPNodeIsUnsupported checks that wrong-ip-autodetect
// refuses a gobgp node: only BIRD nodes autodetect their address.
func TestWrongIPOnGoBGPNodeIsUnsupported(t *testing.T) {
	requireBIRD(t)
	t.Setenv(AgentExeEnv, builtPeerlab(t))
	l := configFaultLab(t, 99, pairYAML("gobgp", "bird", ""), "")
	err := l.InjectFault(context.Background(), &topology.Fault{Name: "wrong-ip-autodetect", Node: "n"})
	if !errors.Is(err, ErrFaultUnsupported) {
		t.Fatalf("inject = %v, want ErrFaultUnsupported", err)
	}
}
