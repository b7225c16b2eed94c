package bench

import (
	"os"
	"testing"

	"github.com/peerlab/peerlab/lab"
)

// TestMain lets this test binary act as a node's init: the namespace labs
// the benchmark rows run start their nodes' inits by re-executing it
// (lab.RunBuiltin).
func TestMain(m *testing.M) {
	if code, ok := lab.RunBuiltin(os.Args); ok {
		os.Exit(code)
	}
	os.Exit(m.Run())
}
