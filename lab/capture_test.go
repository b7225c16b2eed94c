package lab

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/peerlab/peerlab/capture"
	"github.com/peerlab/peerlab/internal/bird"
	"github.com/peerlab/peerlab/internal/testgate"
	"github.com/peerlab/peerlab/lab/topology"
)

// updateBIRDCaptures copies each capture test's pcapng to
// ../capture/testdata/bird/, where capture's golden test renders them.
var updateBIRDCaptures = flag.Bool("update-bird-captures", false, "copy the BIRD capture tests' pcapng files to capture/testdata/bird/")

// captureRequire checks for root, BIRD 1.6 and tshark.
func captureRequire(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		testgate.SkipOrFail(t, "lab captures need root (network namespaces, AF_PACKET)")
	}
	if b := bird.DefaultBinaries(bird.Bird1).Bird; b != "" {
		if _, err := exec.LookPath(b); err != nil {
			testgate.SkipOrFail(t, "BIRD binary %s not found (run .ci/install-daemons.sh): %v", b, err)
		}
	}
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		testgate.SkipOrFail(t, "tshark not found (run .ci/install-daemons.sh): %v", err)
	}
	return tshark
}

// captureCase is one BIRD lab whose capture must show a fault's signature.
type captureCase struct {
	name string
	// fault is injected on node towards the other node right after Up,
	// or once the session is Established when afterEstablished; ""
	// injects nothing.
	fault, node      string
	afterEstablished bool
	// signature reports whether the timeline of n1's capture shows what
	// the case is about, and what it saw.
	signature func(s *capture.Session) (bool, string)
}

// The lab of every case: two BIRD 1.6 nodes in a Calico mesh with short
// timers. By Calico's rule n2, the higher address, connects and n1 listens.
const captureTopology = `
name: %[2]s
defaults: {asn: 64512, kind: bird, timers: {hold: 3s, keepalive: 1s, connect-retry: 1s}}
nodes:
  n1: {address: %[1]s.1, prefixes: [10.244.1.0/26]}
  n2: {address: %[1]s.2, prefixes: [10.244.2.0/26]}
peerings:
  - mesh: [n1, n2]
`

// TestCaptureBIRDFaults brings up one two-node BIRD lab per fault with
// Options.CaptureDir, waits until n1's capture shows the fault's
// signature, tears the lab down and checks the finished capture: the
// signature again, and per session the count of each BGP message type
// against tshark's BGP dissector.
func TestCaptureBIRDFaults(t *testing.T) {
	cases := []captureCase{
		{name: "clean", signature: func(s *capture.Session) (bool, string) {
			// After Down the capture also holds BIRD's Cease 6/2 and an RST.
			ok := s.Counts.Open >= 2 && s.Counts.Keepalive >= 2 && capAnnounced(s, "10.244.2.0/26") && capAnnounced(s, "10.244.1.0/26") &&
				s.Counts.Malformed == 0 && s.Counts.Notification == int64(capCount(s, 6))
			return ok, capKinds(s)
		}},
		// Network faults act on the listener, n1: on n2 they would stop its
		// SYN before the wire.
		{name: "tcp179-drop", fault: "tcp179-drop", node: "n1", signature: func(s *capture.Session) (bool, string) {
			return capFlow(s, func(f synFlow) bool { return f.retransmitted && !f.answered }), capKinds(s)
		}},
		{name: "tcp179-reject", fault: "tcp179-reject", node: "n1", signature: func(s *capture.Session) (bool, string) {
			return capFlow(s, func(f synFlow) bool { return f.reset && !f.answered }), capKinds(s)
		}},
		{name: "as-mismatch", fault: "as-mismatch", node: "n2", signature: func(s *capture.Session) (bool, string) {
			return capNotification(s, 2, 2), capKinds(s)
		}},
		{name: "md5-mismatch", fault: "md5-mismatch", node: "n2", signature: func(s *capture.Session) (bool, string) {
			return capFlow(s, func(f synFlow) bool { return f.md5 && !f.answered }) && capHas(s, capture.KindTCPMD5), capKinds(s)
		}},
		{name: "hold-timer-expiry", fault: "hold-timer-expiry", node: "n2", afterEstablished: true, signature: func(s *capture.Session) (bool, string) {
			return capFollows(s, capture.KindGap, capture.KindNotification) && capNotification(s, 4, 0), capKinds(s)
		}},
	}
	tshark := captureRequire(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			runCaptureCase(t, tc, tshark)
		})
	}
}

// runCaptureCase plays one case.
func runCaptureCase(t *testing.T, tc captureCase, tshark string) {
	f := fnv.New32a()
	f.Write([]byte(t.Name() + "/" + strconv.Itoa(os.Getpid())))
	h := f.Sum32()
	base, name := fmt.Sprintf("10.%d.%d", 100+h%100, (h>>8)%250+1), fmt.Sprintf("cp%x", h)
	topo, err := topology.Parse("capture.yaml", []byte(fmt.Sprintf(captureTopology, base, name)))
	if err != nil {
		t.Fatalf("topology: %v", err)
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	l, err := Up(ctx, topo, Options{
		Logger: zaptest.NewLogger(t), StateDir: t.TempDir(), Mode: ModeNamespace, CaptureDir: dir,
	})
	if err != nil {
		t.Fatalf("up: %v", err)
	}
	t.Cleanup(func() { _ = l.Down() })
	files := l.CaptureFiles()
	want := []string{filepath.Join(dir, "n1.pcapng"), filepath.Join(dir, "n2.pcapng")}
	if strings.Join(files, " ") != strings.Join(want, " ") {
		t.Fatalf("CaptureFiles = %v, want %v", files, want)
	}
	n1, n2 := topo.Node("n1").Address, topo.Node("n2").Address
	if tc.fault != "" && tc.afterEstablished {
		capWait(t, want[0], nil, n1, n2, 20*time.Second, "Established (OPENs and KEEPALIVEs both ways)", func(s *capture.Session) (bool, string) {
			return s.Counts.Open >= 2 && s.Counts.Keepalive >= 2, capKinds(s)
		})
	}
	if tc.fault != "" {
		peer := "n1"
		if tc.node == "n1" {
			peer = "n2"
		}
		err := l.InjectFault(ctx, &topology.Fault{Name: tc.fault, Node: tc.node, Peer: peer})
		if errors.Is(err, ErrFaultUnsupported) {
			testgate.SkipOrFail(t, "fault %s not implemented for BIRD nodes yet: %v", tc.fault, err)
		}
		if err != nil {
			t.Fatalf("inject %s: %v", tc.fault, err)
		}
	}
	capWait(t, want[0], nil, n1, n2, 25*time.Second, tc.name+" signature", tc.signature)
	if err := l.Down(); err != nil {
		t.Fatalf("down: %v", err)
	}
	for _, p := range want {
		tl := capDecode(t, p)
		s := capSessionOf(tl, n1, n2)
		if s == nil {
			t.Fatalf("%s: no session %s-%s after Down", p, n1, n2)
		}
		if p == want[0] {
			if ok, saw := tc.signature(s); !ok {
				t.Errorf("%s after Down: signature of %s gone; events: %s", p, tc.name, saw)
			}
		}
		compareWithTshark(t, tshark, p, tl)
	}
	if *updateBIRDCaptures {
		capCopyFile(t, want[0], filepath.Join("..", "capture", "testdata", "bird", tc.name+".pcapng"))
	}
}

// waitCapture decodes the capture being written until the session of a
// and b satisfies cond.
func capWait(t *testing.T, path string, ports []int, a, b netip.Addr, timeout time.Duration, what string, cond func(*capture.Session) (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	last, ladder := "no session yet", ""
	for time.Now().Before(deadline) {
		tl := capDecode(t, path, ports...)
		if s := capSessionOf(tl, a, b); s != nil {
			ok, saw := cond(s)
			if ok {
				return
			}
			last = saw
			var text bytes.Buffer
			_ = capture.Render(&text, tl, "text")
			ladder = text.String()
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("%s: no %s within %v; events: %s\n%s", path, what, timeout, last, ladder)
}

// decodeCapture decodes a capture file, possibly still being written.
func capDecode(t *testing.T, path string, ports ...int) *capture.Timeline {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tl, err := capture.Decode(bytes.NewReader(data), capture.DecodeOptions{AllEvents: true, Ports: ports})
	if err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	return tl
}

// sessionOf finds the session between a and b.
func capSessionOf(tl *capture.Timeline, a, b netip.Addr) *capture.Session {
	for _, s := range tl.Sessions {
		if (s.A == a && s.B == b) || (s.A == b && s.B == a) {
			return s
		}
	}
	return nil
}

func capHas(s *capture.Session, k capture.Kind) bool {
	for _, e := range s.Events {
		if e.Kind == k {
			return true
		}
	}
	return false
}

// follows reports whether an event of kind second comes after one of kind first.
func capFollows(s *capture.Session, first, second capture.Kind) bool {
	seen := false
	for _, e := range s.Events {
		if e.Kind == first {
			seen = true
		} else if seen && e.Kind == second {
			return true
		}
	}
	return false
}

func capNotification(s *capture.Session, code, sub uint8) bool {
	for _, e := range s.Events {
		if e.Kind == capture.KindNotification && e.Notification.Code == code && e.Notification.Subcode == sub {
			return true
		}
	}
	return false
}

// synFlow is what happened to the SYNs of one connection attempt.
type synFlow struct {
	md5, retransmitted, answered, reset bool
}

// capFlow reports whether one connection attempt of the session (keyed by
// the connecting end) satisfies ok: per attempt, so an attempt that got
// through before a fault was injected does not hide the ones after.
func capFlow(s *capture.Session, ok func(synFlow) bool) bool {
	flows := map[netip.AddrPort]*synFlow{}
	for _, e := range s.Events {
		switch e.Kind {
		case capture.KindSYN, capture.KindSYNRetransmit:
			f := flows[e.From]
			if f == nil {
				f = &synFlow{}
				flows[e.From] = f
			}
			f.md5 = f.md5 || e.TCP.MD5
			f.retransmitted = f.retransmitted || e.Kind == capture.KindSYNRetransmit
		case capture.KindSYNACK:
			if f := flows[e.To]; f != nil {
				f.answered = true
			}
		case capture.KindRST:
			if f := flows[e.To]; f != nil {
				f.reset = true
			}
		}
	}
	for _, f := range flows {
		if ok(*f) {
			return true
		}
	}
	return false
}

// capCount counts the NOTIFICATIONs of one error code.
func capCount(s *capture.Session, code uint8) int {
	n := 0
	for _, e := range s.Events {
		if e.Kind == capture.KindNotification && e.Notification.Code == code {
			n++
		}
	}
	return n
}

func capAnnounced(s *capture.Session, prefix string) bool {
	p := netip.MustParsePrefix(prefix)
	for _, e := range s.Events {
		if e.Kind == capture.KindUpdate {
			for _, a := range e.Update.FirstAnnounced {
				if a == p {
					return true
				}
			}
		}
	}
	return false
}

// kinds lists the session's events briefly, for failure messages.
func capKinds(s *capture.Session) string {
	var b strings.Builder
	for _, e := range s.Events {
		b.WriteString(e.Kind.String())
		if e.Notification != nil {
			fmt.Fprintf(&b, "(%d/%d)", e.Notification.Code, e.Notification.Subcode)
		}
		if e.TCP != nil && e.TCP.MD5 {
			b.WriteString("(md5)")
		}
		b.WriteString(" ")
	}
	return b.String()
}

// bgpTypeNames maps tshark's bgp.type numbers to the decoder's counts.
var bgpTypeNames = map[string]string{"1": "open", "2": "update", "3": "notification", "4": "keepalive", "5": "route-refresh"}

// compareWithTshark checks, per session, that tshark's BGP dissector counts
// as many messages of each type as the decoder.
func compareWithTshark(t *testing.T, tshark, path string, tl *capture.Timeline) {
	t.Helper()
	cmd := exec.Command(tshark, "-r", path, "-Y", "bgp", "-T", "fields", "-e", "ip.src", "-e", "ip.dst", "-e", "bgp.type")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark -r %s: %v: %s", path, err, stderr.String())
	}
	got := map[string]map[string]int64{} // session "a-b" -> type -> count
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			continue
		}
		key := capPairKey(netip.MustParseAddr(f[0]), netip.MustParseAddr(f[1]))
		if got[key] == nil {
			got[key] = map[string]int64{}
		}
		for _, typ := range strings.Split(f[2], ",") { // a frame may carry several messages
			got[key][bgpTypeNames[typ]]++
		}
	}
	for _, s := range tl.Sessions {
		key := capPairKey(s.A, s.B)
		want := map[string]int64{"open": s.Counts.Open, "update": s.Counts.Update, "notification": s.Counts.Notification,
			"keepalive": s.Counts.Keepalive, "route-refresh": s.Counts.RouteRefresh}
		for typ, n := range want {
			if got[key][typ] != n {
				t.Errorf("%s session %s: %s: decoder %d, tshark %d", path, key, typ, n, got[key][typ])
			}
		}
		if s.Counts.Malformed != 0 {
			t.Errorf("%s session %s: %d malformed messages", path, key, s.Counts.Malformed)
		}
		delete(got, key)
	}
	for key, c := range got {
		t.Errorf("%s: tshark sees BGP in session %s (%v) that the decoder does not", path, key, c)
	}
}

// pairKey names an unordered address pair.
func capPairKey(a, b netip.Addr) string {
	if b.Less(a) {
		a, b = b, a
	}
	return a.String() + "-" + b.String()
}

func capCopyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// capLabName derives a lab name, a 10.A.B network and a port from the test.
func capLabName(t *testing.T) (name, base string, port int) {
	f := fnv.New32a()
	f.Write([]byte(t.Name() + "/" + strconv.Itoa(os.Getpid())))
	h := f.Sum32()
	return fmt.Sprintf("cp%x", h), fmt.Sprintf("10.%d.%d", 100+h%100, (h>>8)%250+1), 20000 + int(h%20000)
}

// TestCaptureRunningLab records a running BIRD lab the way 'peerlab
// capture NAME' does, from its published state: the lab bridge in the hub
// namespace (promiscuous, so it shows the frames it forwards) and one
// node's eth0 both see the session's keepalives both ways. Loopback labs
// and unknown nodes are refused.
func TestCaptureRunningLab(t *testing.T) {
	captureRequire(t)
	name, base, _ := capLabName(t)
	topo, err := topology.Parse("capture.yaml", []byte(fmt.Sprintf(captureTopology, base, name)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	l, err := Up(ctx, topo, Options{Logger: zaptest.NewLogger(t), StateDir: t.TempDir(), Mode: ModeNamespace})
	if err != nil {
		t.Fatalf("up: %v", err)
	}
	t.Cleanup(func() { _ = l.Down() })
	st := LabState{Name: name, Mode: ModeNamespace, Nodes: map[string]string{"n1": "bird", "n2": "bird"}}
	if _, err := CaptureTargetOf(st, "n9"); err == nil {
		t.Error("CaptureTargetOf an unknown node: want an error")
	}
	if _, err := CaptureTargetOf(LabState{Name: name, Mode: ModeLoopback}, ""); err == nil {
		t.Error("CaptureTargetOf a loopback lab: want an error")
	}
	dir := t.TempDir()
	paths := map[string]string{"": filepath.Join(dir, "hub.pcapng"), "n1": filepath.Join(dir, "n1.pcapng")}
	var caps []*capture.Capture
	for node, path := range paths {
		target, err := CaptureTargetOf(st, node)
		if err != nil {
			t.Fatal(err)
		}
		c, err := StartCapture(ctx, target, capture.Options{Path: path})
		if err != nil {
			t.Fatalf("capture %q: %v", node, err)
		}
		t.Cleanup(func() { _ = c.Stop() })
		caps = append(caps, c)
	}
	n1, n2 := topo.Node("n1").Address, topo.Node("n2").Address
	for node, path := range paths {
		where := node
		if where == "" {
			where = HubInterface
		}
		capWait(t, path, nil, n1, n2, 20*time.Second, "keepalives both ways on "+where, func(s *capture.Session) (bool, string) {
			from := map[netip.Addr]int{}
			for _, e := range s.Events {
				if e.Kind == capture.KindKeepalive {
					from[e.From.Addr()]++
				}
			}
			return from[n1] >= 2 && from[n2] >= 2, capKinds(s)
		})
	}
	for _, c := range caps {
		if err := c.Stop(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCaptureLoopbackLab records a loopback-mode lab of GoBGP speakers on
// "lo": the capture holds the session, with OPENs both ways, and nothing
// from outside the lab's 127.A.0.0/16 block.
func TestCaptureLoopbackLab(t *testing.T) {
	if os.Geteuid() != 0 {
		testgate.SkipOrFail(t, "capturing on lo needs root (AF_PACKET)")
	}
	name, _, port := capLabName(t)
	topo, err := topology.Parse("capture.yaml", []byte(fmt.Sprintf(`
name: %s
defaults: {asn: 64512, timers: {hold: 9s, keepalive: 3s, connect-retry: 1s}}
nodes:
  a: {address: 10.0.0.1, prefixes: [10.244.1.0/24]}
  b: {address: 10.0.0.2}
peerings:
  - between: [a, b]
`, name)))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	l, err := Up(ctx, topo, Options{Logger: zaptest.NewLogger(t), StateDir: t.TempDir(), Mode: ModeLoopback, Port: port, CaptureDir: dir})
	if err != nil {
		t.Fatalf("up: %v", err)
	}
	t.Cleanup(func() { _ = l.Down() })
	path := filepath.Join(dir, LoopbackCaptureFile)
	if got := l.CaptureFiles(); len(got) != 1 || got[0] != path {
		t.Fatalf("CaptureFiles = %v, want [%s]", got, path)
	}
	a, b := netip.MustParseAddr(l.BindAddress("a")), netip.MustParseAddr(l.BindAddress("b"))
	capWait(t, path, []int{port}, a, b, 20*time.Second, "OPENs and KEEPALIVEs", func(s *capture.Session) (bool, string) {
		return s.Counts.Open >= 2 && s.Counts.Keepalive >= 2, capKinds(s)
	})
	if err := l.Down(); err != nil {
		t.Fatal(err)
	}
	block := netip.PrefixFrom(a, 16).Masked()
	tl := capDecode(t, path, port)
	for _, s := range tl.Sessions {
		if !block.Contains(s.A) && !block.Contains(s.B) {
			t.Errorf("session %s-%s is outside the lab's block %s", s.A, s.B, block)
		}
	}
	if capSessionOf(tl, a, b) == nil {
		t.Errorf("no session %s-%s in %s", a, b, path)
	}
}
