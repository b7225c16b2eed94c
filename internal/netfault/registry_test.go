package netfault

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestDefaultRegistryNames(t *testing.T) {
	got := Default().Names()
	want := []string{NameICMPUnreachable, NameLinkDown, NameNetem, NameSNATNodeTraffic, NameTCPDrop, NameTCPReject}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Default().Names() = %v, want %v", got, want)
	}
	for _, name := range got {
		f, err := Default().Get(name)
		if err != nil {
			t.Fatalf("Get(%q): %v", name, err)
		}
		if f.Name() != name {
			t.Errorf("Get(%q).Name() = %q", name, f.Name())
		}
	}
}

func TestRegistryRefusesDuplicatesAndUnknown(t *testing.T) {
	r := NewRegistry()
	if err := r.Register(NewTCPDrop()); err != nil {
		t.Fatal(err)
	}
	if err := r.Register(NewTCPDrop()); !errors.Is(err, ErrDuplicateFault) {
		t.Fatalf("second Register: got %v, want ErrDuplicateFault", err)
	}
	if _, err := r.Get("tcp179-nope"); !errors.Is(err, ErrUnknownFault) {
		t.Fatalf("Get unknown: got %v, want ErrUnknownFault", err)
	}
	if got := r.Names(); !reflect.DeepEqual(got, []string{NameTCPDrop}) {
		t.Fatalf("Names() = %v", got)
	}
}

// Validation happens before any namespace is opened, so these run
// without root.
func TestInvalidTargets(t *testing.T) {
	ok := Target{NSPath: "/nonexistent/ns"}
	tests := []struct {
		name  string
		fault Fault
		t     Target
	}{
		{"no namespace drop", NewTCPDrop(), Target{}},
		{"no namespace link-down", NewLinkDown(), Target{}},
		{"no namespace netem", NewNetem(DefaultNetemParams()), Target{}},
		{"mapped peer", NewTCPReject(), Target{NSPath: ok.NSPath, Peer: mustAddr(t, "::ffff:10.0.0.1")}},
		{"snat without address", NewSNATNodeTraffic(), ok},
		{"snat family mismatch", NewSNATNodeTraffic(), Target{NSPath: ok.NSPath, Peer: mustAddr(t, "fd00::2"), SNATAddr: mustAddr(t, "192.0.2.1")}},
		{"netem negative delay", NewNetem(NetemParams{Delay: -time.Second}), ok},
		{"netem jitter above delay", NewNetem(NetemParams{Delay: time.Millisecond, Jitter: time.Second}), ok},
		{"netem loss above 100", NewNetem(NetemParams{LossPercent: 101}), ok},
		{"netem nothing to do", NewNetem(NetemParams{}), ok},
		{"netem loss below resolution", NewNetem(NetemParams{LossPercent: 0.001}), ok},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.fault.Inject(context.Background(), tc.t)
			if !errors.Is(err, ErrInvalidTarget) {
				t.Fatalf("Inject: got %v, want ErrInvalidTarget", err)
			}
		})
	}
}
