// Command peerlab reproduces, watches and explains BGP peering faults of
// Calico/BIRD clusters: it plays lab topologies of embedded GoBGP speakers
// and real daemons, checks their expectations and reports why sessions fail.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/peerlab/peerlab/internal/procname"
	"github.com/peerlab/peerlab/lab"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	if code, ok := lab.RunBuiltin(os.Args); ok {
		os.Exit(code)
	}
	procname.Set(os.Args[0])
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCommand(ctx).ExecuteContext(ctx)
	stop()
	os.Exit(exitCode(err))
}

// exitCode maps a command error to the process exit status and prints it.
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintln(os.Stderr, ee.msg)
		}
		return ee.code
	}
	fmt.Fprintln(os.Stderr, "peerlab:", err)
	return 1
}
