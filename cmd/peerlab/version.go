package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// newVersionCommand prints peerlab's version and the GoBGP it embeds.
func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the peerlab version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			gobgp := "unknown"
			if info, ok := debug.ReadBuildInfo(); ok {
				for _, d := range info.Deps {
					if d.Path == "github.com/osrg/gobgp/v4" {
						gobgp = d.Version
					}
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "peerlab %s (gobgp %s, %s %s/%s)\n", version, gobgp, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
}
