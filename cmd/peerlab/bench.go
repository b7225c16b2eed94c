package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/peerlab/peerlab/lab/bench"
)

// newBenchCommand groups the benchmarks that need a lab.
func newBenchCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Benchmarks against real daemons in namespace labs",
	}
	cmd.AddCommand(newBenchInjectCommand(a), newBenchSoakCommand(a))
	return cmd
}

// newBenchInjectCommand builds `peerlab bench inject`.
func newBenchInjectCommand(a *app) *cobra.Command {
	var (
		n         int
		target    string
		stateDir  string
		workDir   string
		injectors []string
		liveBatch int
	)
	cmd := &cobra.Command{
		Use:   "inject [-n N] [--target bird|bird2] [--injectors LIST]",
		Short: "Compare peerlab, BIRD and ExaBGP injecting N /24s into a BIRD target",
		Long: `inject runs injectors one after the other, each against a fresh target BIRD
in its own namespace lab (needs root, BIRD 1.6, exabgp; bird2 for --target
bird2). The default set:

  peerlab       'peerlab inject' (this binary), the table loaded before the session
  peerlab-fib   the same with --order bird-fib: the order a BIRD 1.6 source sends
  peerlab-live  'peerlab inject --live-batch 10000': announced once Established
  bird          a BIRD 1.6 with N static routes (the reference floor)
  exabgp        ExaBGP 4.2 fed 'announce attributes next-hop X nlri P1 P2 ...'
                lines through its process API

and, only when --injectors names it, gobgp: a gobgp lab node with
'routes: {generate: N}' (the peerlab agent).

For each it reports the time from the session's first TCP SYN (and from the
first UPDATE carrying NLRI) until the target's
'show route where net ~ [16.0.0.0/4+] count' reaches N (polled every 100 ms),
the UPDATE bytes and prefixes per UPDATE captured on the target's eth0, the
injector process's peak RSS (VmHWM) and the target's 'show memory' total,
then the ratios against the targets of docs/injection.md.`,
		Example: `  sudo peerlab bench inject
  sudo peerlab bench inject -n 1000000 --target bird2
  sudo peerlab bench inject --injectors peerlab,gobgp`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			inj, err := bench.ParseInjectors(injectors)
			if err != nil {
				return usageErrorf("peerlab bench inject: --injectors: %v", err)
			}
			exe, err := os.Executable()
			if err != nil {
				return fmt.Errorf("bench inject: find the peerlab binary: %w", err)
			}
			// On a terminal, the rows' progress (bench.Options.Logger at
			// info level) is shown unless --log-level says otherwise;
			// piped or redirected, only the table is printed.
			log := a.log
			if f, ok := cmd.OutOrStdout().(*os.File); ok && term.IsTerminal(int(f.Fd())) && !a.v.IsSet("log-level") {
				if log, err = loggerTo(cmd.ErrOrStderr(), "info", a.v.GetString("log-format")); err != nil {
					return usageErrorf("peerlab bench inject: %v", err)
				}
			}
			rows, err := bench.Run(cmd.Context(), bench.Options{
				N: n, Target: target, StateDir: stateDir, WorkDir: workDir, Logger: log,
				Injectors: inj, Exe: exe, LiveBatch: liveBatch,
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
	f.StringSliceVar(&injectors, "injectors", nil, "injectors to run, comma-separated, of peerlab, peerlab-live, bird, exabgp, gobgp (default all but gobgp)")
	f.IntVar(&liveBatch, "live-batch", bench.DefaultLiveBatch, "routes per Announce of the peerlab-live row")
	return cmd
}
