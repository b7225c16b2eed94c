package agent

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"testing"
)

// childEnv, set to a socket path, turns the test binary into an agent
// process serving that socket (as `peerlab agent --socket` does), so tests
// can check the process's life: exit 0 after Close or SIGTERM.
const childEnv = "PEERLAB_AGENT_TEST_SOCKET"

func TestMain(m *testing.M) {
	if path := os.Getenv(childEnv); path != "" {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
		err := Run(ctx, path, nil)
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}
