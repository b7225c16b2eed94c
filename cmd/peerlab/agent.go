package main

import (
	"github.com/spf13/cobra"

	"github.com/peerlab/peerlab/lab/agent"
)

// newAgentCommand is the hidden `peerlab agent`: the child a namespace-mode
// lab starts inside a gobgp node's network namespace to host that node's
// speaker, controlled by the lab over a Unix socket (package lab/agent).
func newAgentCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:    "agent --socket PATH",
		Short:  "Host one embedded GoBGP speaker for a namespace-mode lab (internal)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sock := a.v.GetString("socket")
			if sock == "" {
				return usageErrorf("peerlab agent: --socket is required")
			}
			// Always JSON: the log is a file the lab keeps, read by tools.
			log, err := newLogger(a.v.GetString("log-level"), "json")
			if err != nil {
				return usageErrorf("peerlab agent: %v", err)
			}
			defer func() { _ = log.Sync() }()
			// cmd.Context ends on SIGTERM or SIGINT (see main).
			return agent.Run(cmd.Context(), sock, log)
		},
	}
	cmd.Flags().String("socket", "", "Unix socket to serve the agent protocol on (a stale one is replaced)")
	return cmd
}
