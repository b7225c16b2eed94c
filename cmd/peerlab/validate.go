package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

// newValidateCommand checks a topology file without running it.
func newValidateCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "validate FILE",
		Short: "Check a topology file without running it",
		Long: `validate loads a topology strictly and prints every problem it finds, each
naming the file, the line and the field. Exit status 0 when valid, 2 when not.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			topo, err := loadTopologyArg(args[0], "")
			if err != nil {
				return usageErrorf("%v", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: valid: lab %s, %d nodes, %d sessions, %d expectations\n",
				args[0], topo.Name, len(topo.Nodes), len(topo.Sessions), len(topo.Expectations))
			return nil
		},
	}
}
