package lazy

import (
	"sync"
	"testing"
)

func TestRegexpCompilesOnceOnFirstUse(t *testing.T) {
	re := Regexp(`^(Mesh|Node)_(\d+)$`)
	var wg sync.WaitGroup
	got := make(chan any, 8)
	for range 8 {
		wg.Add(1)
		go func() { defer wg.Done(); got <- re() }()
	}
	wg.Wait()
	close(got)
	first := re()
	for r := range got {
		if r != first {
			t.Fatalf("Regexp returned %p and %p: compiled more than once", r, first)
		}
	}
	if m := first.FindStringSubmatch("Mesh_42"); len(m) != 3 || m[2] != "42" {
		t.Errorf("FindStringSubmatch(Mesh_42) = %q", m)
	}
}

func TestRegexpPanicsOnFirstUseOfABadPattern(t *testing.T) {
	re := Regexp(`(unclosed`) // building the func must not panic
	defer func() {
		if recover() == nil {
			t.Error("a bad pattern did not panic on first use")
		}
	}()
	re()
}
