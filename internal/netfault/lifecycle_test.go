package netfault

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// TestTwoFaultsHealOne puts tcp179-drop (port 179) and tcp179-reject
// (port 1790) on one node, heals the drop and checks that the reject
// still applies, in behaviour and in the kernel's ruleset.
func TestTwoFaultsHealOne(t *testing.T) {
	t.Parallel()
	lab := newLab(t, 2)
	lab.serve("a", lab.addr4("a"), 179)
	lab.serve("a", lab.addr4("a"), 1790)
	drop, reject := NewTCPDrop(), NewTCPReject()
	dropT, rejectT := lab.target("a"), lab.target("a")
	rejectT.Port = 1790
	mustInject(t, drop, dropT)
	mustInject(t, reject, rejectT)
	if got, _ := lab.try("b", lab.addr4("a"), 179); got != timedOut {
		t.Errorf("both faults: port 179 got %s, want %s", got, timedOut)
	}

	mustHeal(t, drop, dropT)
	lab.mustConnect("b", lab.addr4("a"), 179)
	if got, _ := lab.try("b", lab.addr4("a"), 1790); got != refused {
		t.Errorf("after healing the drop: port 1790 got %s, want %s", got, refused)
	}
	rules := lab.ruleset("a")
	if strings.Contains(rules, NameTCPDrop) {
		t.Errorf("healed drop still in the ruleset:\n%s", rules)
	}
	if !strings.Contains(rules, NameTCPReject+"-input") || !strings.Contains(rules, `comment "peerlab:`+NameTCPReject+`"`) {
		t.Errorf("reject chains missing from the ruleset:\n%s", rules)
	}

	mustHeal(t, reject, rejectT)
	lab.mustConnect("b", lab.addr4("a"), 1790)
}

// TestFaultAndNetemCoexist combines an nftables filter fault with netem
// loss, whose chains share the inet peerlab table, and heals them in both
// orders: each heal removes only its own chain, and the table goes with
// the last one.
func TestFaultAndNetemCoexist(t *testing.T) {
	t.Parallel()
	lab := newLab(t, 2)
	lab.serve("a", lab.addr4("a"), DefaultBGPPort)
	reject, loss := NewTCPReject(), NewNetem(NetemParams{LossPercent: 100})
	target := lab.target("a")
	mustInject(t, reject, target)
	mustInject(t, loss, target)
	rules := lab.ruleset("a")
	for _, want := range []string{NameTCPReject + "-input", lossChainName} {
		if !strings.Contains(rules, want) {
			t.Errorf("both faults on: ruleset lacks %q:\n%s", want, rules)
		}
	}

	mustHeal(t, loss, target)
	if got, _ := lab.try("b", lab.addr4("a"), DefaultBGPPort); got != refused {
		t.Errorf("netem healed, reject on: got %s, want %s", got, refused)
	}
	if rules := lab.ruleset("a"); strings.Contains(rules, lossChainName) {
		t.Errorf("healed netem still in the ruleset:\n%s", rules)
	}

	mustInject(t, loss, target)
	mustHeal(t, reject, target)
	if got, _ := lab.try("b", lab.addr4("a"), DefaultBGPPort); got != timedOut {
		t.Errorf("reject healed, netem loss on: got %s, want %s", got, timedOut)
	}
	mustHeal(t, loss, target)
	lab.mustConnect("b", lab.addr4("a"), DefaultBGPPort)
	if rules := lab.ruleset("a"); strings.Contains(rules, TableName) {
		t.Errorf("both healed: ruleset still holds %s:\n%s", TableName, rules)
	}
}

// TestHealNotInjected heals every default fault on a fresh node: no error,
// and nothing left behind.
func TestHealNotInjected(t *testing.T) {
	t.Parallel()
	lab := newLab(t, 2)
	lab.serve("a", lab.addr4("a"), DefaultBGPPort)
	reg := Default()
	target := lab.target("a")
	for _, name := range reg.Names() {
		f, _ := reg.Get(name)
		if err := f.Heal(context.Background(), target); err != nil {
			t.Errorf("Heal %s when not injected: %v", name, err)
		}
	}
	if rules := lab.ruleset("a"); strings.Contains(rules, TableName) {
		t.Errorf("healing created a table:\n%s", rules)
	}
	lab.mustConnect("b", lab.addr4("a"), DefaultBGPPort)
}

// TestInjectTwiceRefused checks that a second Inject of an nftables fault
// fails and leaves one set of rules: after one heal the fault is gone.
func TestInjectTwiceRefused(t *testing.T) {
	t.Parallel()
	lab := newLab(t, 2)
	lab.serve("a", lab.addr4("a"), DefaultBGPPort)
	f, target := NewTCPReject(), lab.target("a")
	mustInject(t, f, target)
	if err := f.Inject(context.Background(), target); !errors.Is(err, ErrAlreadyInjected) {
		t.Fatalf("second Inject: got %v, want ErrAlreadyInjected", err)
	}
	// Another instance of the same fault sees the chains too.
	if err := NewTCPReject().Inject(context.Background(), target); !errors.Is(err, ErrAlreadyInjected) {
		t.Fatalf("Inject by a second instance: got %v, want ErrAlreadyInjected", err)
	}
	if n := strings.Count(lab.ruleset("a"), "reject with tcp reset"); n != 4 {
		t.Errorf("ruleset holds %d reject rules, want 4 (2 chains x sport/dport)", n)
	}
	mustHeal(t, f, target)
	lab.mustConnect("b", lab.addr4("a"), DefaultBGPPort)
}

// TestClean removes the peerlab tables of a namespace, leaves other tables
// alone, and is idempotent.
func TestClean(t *testing.T) {
	t.Parallel()
	lab := newLab(t, 2)
	lab.serve("a", lab.addr4("a"), DefaultBGPPort)
	lab.nftIn("a", "add", "table", "inet", "someone_else")
	target := lab.target("a")
	target.SNATAddr = lab.loopback4("a")
	mustInject(t, NewTCPReject(), target)
	mustInject(t, NewSNATNodeTraffic(), target)
	for i := 0; i < 2; i++ {
		if err := Clean(context.Background(), target.NSPath); err != nil {
			t.Fatalf("Clean #%d: %v", i+1, err)
		}
	}
	rules := lab.ruleset("a")
	if strings.Contains(rules, TableName) {
		t.Errorf("Clean left a peerlab table:\n%s", rules)
	}
	if !strings.Contains(rules, "table inet someone_else") {
		t.Errorf("Clean removed a foreign table:\n%s", rules)
	}
	lab.mustConnect("b", lab.addr4("a"), DefaultBGPPort)
}
