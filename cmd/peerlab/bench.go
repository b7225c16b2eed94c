package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/peerlab/peerlab/lab/bench"
)

// newBenchCommand groups the benchmarks that need a lab.
func newBenchCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Benchmarks against real daemons in namespace labs",
	}
	cmd.AddCommand(newBenchInjectCommand(a))
	return cmd
}

// newBenchInjectCommand builds `peerlab bench inject`.
func newBenchInjectCommand(a *app) *cobra.Command {
	var (
		n        int
		target   string
		stateDir string
		workDir  string
	)
	cmd := &cobra.Command{
		Use:   "inject [-n N] [--target bird|bird2]",
		Short: "Compare peerlab, BIRD and ExaBGP injecting N /24s into a BIRD target",
		Long: `inject runs three injectors one after the other, each against a fresh target
BIRD in its own namespace lab (needs root, BIRD 1.6, exabgp; bird2 for
--target bird2): peerlab's gobgp node (routes: generate N), a BIRD 1.6 with N
static routes (the reference floor) and ExaBGP 4.2 fed grouped
'announce attributes next-hop X nlri P1 P2 ...' lines through its process API.

For each it reports the time from the session's first TCP SYN until the
target's 'show route where net ~ [16.0.0.0/4+] count' reaches N (polled every
100 ms), the UPDATE bytes and prefixes per UPDATE captured on the target's
eth0, and the injector process's peak RSS (VmHWM). See docs/injection.md.`,
		Example: `  sudo peerlab bench inject
  sudo peerlab bench inject -n 1000000 --target bird2`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rows, err := bench.Run(cmd.Context(), bench.Options{
				N: n, Target: target, StateDir: stateDir, WorkDir: workDir, Logger: a.log,
			})
			if len(rows) > 0 {
				if rerr := bench.Render(cmd.OutOrStdout(), n, target, rows); rerr != nil {
					return rerr
				}
			}
			if err != nil {
				return fmt.Errorf("bench inject: %w", err)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVarP(&n, "n", "n", 100000, "number of /24s to inject (at most 1048576)")
	f.StringVar(&target, "target", "bird", "target daemon: bird (1.6) or bird2")
	f.StringVar(&stateDir, "state-dir", "", "folder for lab state (default /run/peerlab as root, else per user)")
	f.StringVar(&workDir, "work-dir", "", "keep configs, logs and captures here (default a temporary folder)")
	return cmd
}
