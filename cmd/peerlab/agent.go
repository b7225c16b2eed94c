package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/peerlab/peerlab/lab/agent"
)

// newAgentCommand is the hidden `peerlab agent`: the child a namespace-mode
// lab starts inside a gobgp node's network namespace to host that node's
// speaker, controlled by the lab over a Unix socket (package lab/agent).
// Labs start it as `gobgpd` (argv[0], dispatched before the command line
// is built); this command is the same program under the CLI.
func newAgentCommand(_ *app) *cobra.Command {
	return &cobra.Command{
		Use:                "agent --socket PATH [--listen-fd N] [--log-level LEVEL]",
		Short:              "Host one embedded GoBGP speaker for a namespace-mode lab (internal)",
		Hidden:             true,
		DisableFlagParsing: true,
		RunE: func(_ *cobra.Command, args []string) error {
			if code := agent.Main(args, os.Stderr); code != 0 {
				return &exitError{code: code}
			}
			return nil
		},
	}
}
