// Command peerlab-gobgpd is the agent of a gobgp node in a namespace-mode
// lab: the node's GoBGP speaker, driven by the lab over a Unix socket
// (lab/agent). `make build` puts it beside bin/peerlab, which starts it in
// each node when it is from the same build; without it, peerlab runs the
// same agent from its own executable.
//
// It is the agent alone, so that each of the thousand processes a large
// lab starts does not also load and initialise the CLI's, the diagnosis
// engine's and the Kubernetes client's packages (docs/benchmarks.md).
package main

import (
	"os"

	"github.com/peerlab/peerlab/internal/procname"
	"github.com/peerlab/peerlab/lab/agent"
)

func main() {
	// The lab starts it as gobgpd, the name GoBGP's daemon has in a
	// node's process list.
	procname.Set(os.Args[0])
	os.Exit(agent.Main(os.Args[1:], os.Stderr))
}
