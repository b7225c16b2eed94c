package livediag

import (
	"slices"
	"testing"

	"github.com/peerlab/peerlab/diagnose"
	"github.com/peerlab/peerlab/lab/topology"
)

// TestCausesMatchCatalogue keeps the causes the topology loader accepts in
// diagnosis expectations equal to the diagnosis catalogue (the loader
// cannot import it).
func TestCausesMatchCatalogue(t *testing.T) {
	var cat []string
	for _, c := range diagnose.Catalogue() {
		cat = append(cat, string(c.Cause))
	}
	if len(cat) == 0 {
		t.Fatal("empty diagnosis catalogue")
	}
	got := slices.Sorted(slices.Values(topology.DiagnosisCauses()))
	slices.Sort(cat)
	if !slices.Equal(got, cat) {
		t.Errorf("topology.DiagnosisCauses() = %v\ndiagnose.Catalogue()     = %v", got, cat)
	}
}
