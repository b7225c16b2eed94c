package lab

import (
	"os"
	"testing"
)

// TestMain lets this test binary act as a node's init: namespace-mode labs
// start their nodes' inits by re-executing it (RunBuiltin).
func TestMain(m *testing.M) {
	if code, ok := RunBuiltin(os.Args); ok {
		os.Exit(code)
	}
	os.Exit(m.Run())
}
