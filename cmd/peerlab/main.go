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
	"path/filepath"
	"strings"
	"syscall"

	"github.com/peerlab/peerlab/lab"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	if code, ok := lab.RunBuiltin(os.Args); ok {
		os.Exit(code)
	}
	setComm(os.Args[0])
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

// setComm makes the process's name (its comm, what ps -o comm and pgrep
// see) the base name of argv0 when it differs: a lab starts its children
// through /proc/self/exe (comm "exe") under the names of what they are,
// such as gobgpd. The kernel keeps 15 bytes of it.
func setComm(argv0 string) {
	name := filepath.Base(argv0)
	if len(name) > 15 {
		name = name[:15]
	}
	cur, err := os.ReadFile("/proc/self/comm")
	if err != nil || strings.TrimSpace(string(cur)) == name || name == "" || name == "." {
		return
	}
	_ = os.WriteFile("/proc/self/comm", []byte(name), 0)
}
