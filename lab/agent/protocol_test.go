package agent

import (
	"context"
	"reflect"
	"strings"
	"testing"
)

// TestProtocolSeesShapes checks that the fingerprint's description
// changes with what a build may change: a field's name, type or tag in
// this module's types, while a standard type is taken by its name.
func TestProtocolSeesShapes(t *testing.T) {
	type peer struct{ Address string }
	type renamed struct{ Addr string }
	type retyped struct{ Address int }
	type tagged struct {
		Address string `json:"a"`
	}
	shape := func(v any) string {
		var b strings.Builder
		writeShape(&b, reflect.TypeOf(v), map[reflect.Type]bool{})
		return b.String()
	}
	base := shape(StartConfig{})
	for _, tc := range []struct {
		name string
		a, b any
		same bool
	}{
		{"same struct", peer{}, peer{}, true},
		{"renamed field", peer{}, renamed{}, false},
		{"retyped field", peer{}, retyped{}, false},
		{"tagged field", peer{}, tagged{}, false},
		{"slice of it", []peer{}, []renamed{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The type names differ too; compare the field lists alone.
			a, b := fields(shape(tc.a)), fields(shape(tc.b))
			if (a == b) != tc.same {
				t.Errorf("shapes %q and %q: equal = %v, want %v", a, b, a == b, tc.same)
			}
		})
	}
	if !strings.Contains(base, "RouterID \"\":netip.Addr,") {
		t.Errorf("StartConfig's shape should name netip.Addr without looking into it: %s", base)
	}
	if !strings.Contains(base, "Families \"\":slice0[") {
		t.Errorf("StartConfig's shape should look into its slice of families: %s", base)
	}
}

// fields is a struct shape without its type name.
func fields(shape string) string {
	if i := strings.Index(shape, "{"); i >= 0 {
		return shape[i:]
	}
	return shape
}

// TestProtocolIsStable checks the fingerprint is the same on every call
// (it is compared across processes) and covers every call of the service.
func TestProtocolIsStable(t *testing.T) {
	if a, b := Protocol(), Protocol(); a != b || len(a) != 16 {
		t.Fatalf("Protocol() = %q then %q, want one 16-digit fingerprint", a, b)
	}
	if n := reflect.TypeOf(&service{}).NumMethod(); n < 10 {
		t.Fatalf("service has %d methods; the fingerprint walks them all", n)
	}
}

// TestPingRefusesAnotherProtocol checks the first call: an agent answers
// a lab of its own protocol and refuses, naming both, one of another.
func TestPingRefusesAnotherProtocol(t *testing.T) {
	a := serveAgent(t, "hello")
	ctx := context.Background()
	if err := a.client.Ping(ctx); err != nil {
		t.Fatalf("Ping from a lab of the same build: %v", err)
	}
	err := a.client.call(ctx, "Ping", Hello{Protocol: "0123456789abcdef"}, &Empty{})
	if err == nil {
		t.Fatal("Ping from a lab of another protocol was answered")
	}
	for _, want := range []string{"another build", "0123456789abcdef", Protocol()} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}
