package lab

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/peerlab/peerlab/lab/topology"
)

func TestFaultRegistryCoversTheCatalogue(t *testing.T) {
	got := NewDefaultFaultRegistry().Names()
	want := topology.FaultNames()
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("registry has %v\nthe catalogue is %v", got, want)
	}
	if err := NewDefaultFaultRegistry().Register("tcp179-drop", nodeFault{}); err == nil {
		t.Error("registering tcp179-drop twice succeeded")
	}
}

func TestFaultsOutsideTheirModeAreRefused(t *testing.T) {
	l := upLab(t, loadShipped(t, "calico-mesh.yaml", "t-fault-loop"), t.TempDir(), testPort(t))
	ctx := context.Background()
	for _, f := range []*topology.Fault{
		{Name: "tcp179-drop", Node: "node1"}, // network fault: needs namespace mode
		{Name: "bird-down", Node: "node1"},   // node fault: gobgp nodes do not play it
	} {
		err := l.InjectFault(ctx, f)
		if !errors.Is(err, ErrFaultUnsupported) {
			t.Errorf("%s on a loopback gobgp node: err = %v, want ErrFaultUnsupported", f.Name, err)
		}
		if err := l.HealFault(ctx, f); err != nil {
			t.Errorf("heal of a fault never injected: %v", err)
		}
	}
	if log := l.FaultLog(); len(log) != 2 || log[0].Error == "" {
		t.Errorf("fault log = %+v, want two failed injections", log)
	}
}
