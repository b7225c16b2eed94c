package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/peerlab/peerlab/lab"
	"github.com/peerlab/peerlab/lab/livediag"
)

// newRunCommand plays a topology: up, check expectations, report, down.
func newRunCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run FILE",
		Short: "Bring a topology up, play its scenario, check its expectations, report and tear it down",
		Long: `run brings the topology up and plays its scenario: it injects and heals the
faults of the schedule up to the last one, waits until every expectation is
decided (each within its own "within" window, counted from lab start or from
its "after": a delay, a fault's injection or its heal; "for" makes the
condition hold that long), and lasts at least the topology's "duration" (or
--duration). It then prints a report: the sessions, one timeline of session
changes, fault events and verdicts, and each verdict with when it was decided
and on what; and tears the lab down.

Exit status: 0 when every expectation holds, 1 when one fails, 2 on bad input.
Ctrl-C tears the lab down cleanly.`,
		Example: `  peerlab run topologies/quickstart.yaml
  peerlab run topologies/calico-rr.yaml --output json
  PEERLAB_PORT=17900 peerlab run topologies/calico-mesh.yaml --keep
  peerlab run topologies/calico-bird-mesh.yaml --capture /tmp/caps`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.run(cmd, args[0])
		},
	}
	f := cmd.Flags()
	f.StringP("output", "o", "table", "report format: table or json")
	f.Duration("timeout", 2*time.Minute, "give up on expectations after this long (at least --duration plus 30s)")
	f.Duration("duration", 0, "run at least this long from lab start, even without expectations (overrides the topology's duration)")
	f.Bool("keep", false, "keep the lab running after the report until interrupted")
	addLabFlags(cmd)
	return cmd
}

// run carries out `peerlab run`.
func (a *app) run(cmd *cobra.Command, file string) error {
	output := a.v.GetString("output")
	if output != "table" && output != "json" {
		return usageErrorf("peerlab run: --output: %q is not table or json", output)
	}
	topo, err := loadTopologyArg(file, a.stateDir())
	if err != nil {
		return usageErrorf("%v", err)
	}
	ctx := cmd.Context()
	prog := a.newProgress(cmd)
	l, err := lab.Up(ctx, topo, lab.Options{
		NodeStarted: func(started, total int) {
			prog.Printf("lab %s: %d of %d nodes started", topo.Name, started, total)
		},
		Logger:     a.log,
		Port:       a.v.GetInt("port"),
		StateDir:   a.stateDir(),
		Mode:       lab.Mode(a.v.GetString("mode")),
		CaptureDir: a.v.GetString("capture"),
	})
	prog.Done()
	if err != nil {
		return fmt.Errorf("bring lab %s up: %w", topo.Name, err)
	}
	defer func() {
		if derr := l.Down(); derr != nil {
			a.log.Warn("tear down", zap.Error(derr))
		}
		if files := l.CaptureFiles(); len(files) > 0 {
			fmt.Fprintf(cmd.ErrOrStderr(), "captures of lab %s: %s (peerlab capture decode FILE)\n", topo.Name, strings.Join(files, " "))
		}
	}()

	duration := a.v.GetDuration("duration")
	if duration == 0 {
		duration = topo.Duration
	}
	timeout := max(a.v.GetDuration("timeout"), duration+30*time.Second)
	checkCtx, cancel := context.WithTimeout(ctx, timeout)
	results := l.Check(checkCtx, lab.CheckOptions{Diagnoser: livediag.New(a.stateDir()), Duration: duration})
	cancel()
	report := l.Report(context.WithoutCancel(ctx), results)
	if output == "json" {
		err = report.WriteJSON(cmd.OutOrStdout())
	} else {
		err = report.WriteTable(cmd.OutOrStdout())
	}
	if err != nil {
		return err
	}
	if a.v.GetBool("keep") && ctx.Err() == nil {
		fmt.Fprintf(cmd.ErrOrStderr(), "lab %s kept running; press Ctrl-C to tear it down\n", topo.Name)
		<-ctx.Done()
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		a.log.Info("interrupted; tearing the lab down")
	}
	if !report.OK {
		return &exitError{code: exitFailed}
	}
	return nil
}
