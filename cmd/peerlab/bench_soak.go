package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/peerlab/peerlab/lab/bench"
	pb "github.com/peerlab/peerlab/proto/peerlab/v1"
)

// newBenchSoakCommand builds `peerlab bench soak`.
func newBenchSoakCommand(a *app) *cobra.Command {
	var (
		duration, every time.Duration
		mode            string
	)
	cmd := &cobra.Command{
		Use:   "soak [--duration 10m] [--every 5s] [--mode loopback|namespace]",
		Short: "Create and delete labs against one 'peerlab serve' and watch its memory, files and goroutines",
		Long: `soak starts 'peerlab serve' on a temporary state folder, then for --duration
creates a two-speaker lab, waits for its session to be Established and deletes
it, again and again. Every --every it samples the server's resident memory,
open file descriptors and threads (/proc) and its goroutines (from the
'runtime stats' lines serve --stats-every logs), prints them, and compares the
last quarter of the run with the first: ratios near 1 mean nothing grows with
the number of labs served.`,
		Example: `  peerlab bench soak
  sudo peerlab bench soak --duration 10m --mode namespace`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m := pb.LabMode_LAB_MODE_UNSPECIFIED
			switch mode {
			case "":
			case "loopback":
				m = pb.LabMode_LAB_MODE_LOOPBACK
			case "namespace":
				m = pb.LabMode_LAB_MODE_NAMESPACE
			default:
				return usageErrorf("peerlab bench soak: --mode %q: want loopback or namespace", mode)
			}
			bin, err := os.Executable()
			if err != nil {
				return fmt.Errorf("soak: %w", err)
			}
			res, err := bench.Soak(cmd.Context(), bench.SoakOptions{Binary: bin, Duration: duration, Every: every, Mode: m, Logger: a.log})
			if werr := bench.WriteSoak(cmd.OutOrStdout(), res); werr != nil {
				return werr
			}
			return err
		},
	}
	f := cmd.Flags()
	f.DurationVar(&duration, "duration", 10*time.Minute, "how long to create and delete labs")
	f.DurationVar(&every, "every", 5*time.Second, "sampling interval")
	f.StringVar(&mode, "mode", "", "lab mode: loopback or namespace (default: the server's, namespace as root)")
	return cmd
}
