package netns

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"

	"go.uber.org/zap/zaptest"

	"github.com/peerlab/peerlab/internal/testgate"
)

// requireRoot skips a test that needs root and namespaces, except in CI
// (CI=true), where it fails instead.
func requireRoot(tb testing.TB) {
	tb.Helper()
	testgate.RequireRoot(tb, "to create network namespaces")
}

// labName derives a lab name unique to this test and process, and removes
// any namespace a previous crashed run left under that name, now and at
// the end of the test.
func labName(tb testing.TB) string {
	tb.Helper()
	name := fmt.Sprintf("t%d-%s", os.Getpid()%100000, shortHash(tb.Name())[:6])
	clean := func() {
		if _, err := Clean(context.Background(), name, nil); err != nil {
			tb.Errorf("clean %s: %v", name, err)
		}
	}
	clean()
	tb.Cleanup(clean)
	return name
}

// namespacesOf returns the namespaces of lab present under /run/netns.
func namespacesOf(tb testing.TB, lab string) []string {
	tb.Helper()
	names, err := labNamespaces(lab)
	if err != nil {
		tb.Fatal(err)
	}
	return names
}

// mustCreate creates spec and destroys it at the end of the test.
func mustCreate(t *testing.T, spec LabSpec) *Lab {
	t.Helper()
	lab, err := Create(context.Background(), spec, zaptest.NewLogger(t))
	if err != nil {
		t.Fatalf("create %s: %v", spec.Name, err)
	}
	t.Cleanup(func() {
		if err := lab.Destroy(); err != nil {
			t.Errorf("destroy: %v", err)
		}
	})
	return lab
}

// starSpec returns a lab of n nodes on the bridge, node i (from 0) named
// n<i> with address 10.<net>.<i/250>.<i%250+1>/16.
func starSpec(name string, n int, net byte) LabSpec {
	spec := LabSpec{Name: name}
	for i := 0; i < n; i++ {
		spec.Nodes = append(spec.Nodes, NodeSpec{
			Name:      fmt.Sprintf("n%d", i),
			Addresses: []netip.Prefix{netip.PrefixFrom(netip.AddrFrom4([4]byte{10, net, byte(i / 250), byte(i%250 + 1)}), 16)},
		})
	}
	return spec
}

// hasPrefix reports whether any of names starts with prefix.
func hasPrefix(names []string, prefix string) bool {
	for _, n := range names {
		if strings.HasPrefix(n, prefix) {
			return true
		}
	}
	return false
}
