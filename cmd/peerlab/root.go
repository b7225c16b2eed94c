package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
	"go.uber.org/zap"
)

// app is the state shared by the commands of one invocation: its settings
// (flags, PEERLAB_* environment, config file) and its logger.
type app struct {
	v   *viper.Viper
	log *zap.Logger
}

// newRootCommand builds the command tree. Each invocation gets its own viper
// instance, so nothing is global.
func newRootCommand(ctx context.Context) *cobra.Command {
	a := &app{v: viper.New(), log: zap.NewNop()}
	root := &cobra.Command{
		Use:   "peerlab",
		Short: "Reproduce, watch and explain BGP peering faults (Calico/BIRD labs)",
		Long: `peerlab plays lab topologies of BGP speakers described in YAML, checks what
they expect (sessions Established, routes received) and reports why a session
is not up, with the NOTIFICATION or error behind it.

Settings come from flags, then PEERLAB_<FLAG> environment variables (e.g.
PEERLAB_OUTPUT=json, PEERLAB_LOG_LEVEL=debug), then the config file given by
--config (YAML, keys named like the flags).`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return a.init(cmd)
		},
		PersistentPostRun: func(*cobra.Command, []string) { _ = a.log.Sync() },
	}
	root.SetContext(ctx)
	pf := root.PersistentFlags()
	pf.String("config", "", "config file (YAML) with defaults for any flag")
	pf.String("log-level", "warn", "log level: debug, info, warn, error")
	pf.String("log-format", "console", "log format on stderr: console or json")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErrorf("peerlab: %v", err) })

	root.AddCommand(
		newRunCommand(a),
		newValidateCommand(a),
		newVersionCommand(),
		newCaptureCommand(a),
		newAgentCommand(a),
		newUpCommand(a),
		newStatusCommand(a),
		newDownCommand(a),
		newCleanCommand(a),
		newFaultCommand(a),
		newExecCommand(a),
		newKubeconfigCommand(a),
		newDiagnoseCommand(a),
		newCalicoNodeCommand(a),
		newServeCommand(a), newLabHostCommand(a),
		newGraphCommand(a), newExerciseCommand(a),
		newBenchCommand(a),
		newInjectCommand(a),
	)
	return root
}

// init binds the command's flags to viper, reads the config file and the
// environment, and builds the logger.
func (a *app) init(cmd *cobra.Command) error {
	a.v.SetEnvPrefix("PEERLAB")
	a.v.SetEnvKeyReplacer(strings.NewReplacer("-", "_"))
	a.v.AutomaticEnv()
	if err := a.v.BindPFlags(cmd.Flags()); err != nil {
		return fmt.Errorf("bind flags: %w", err)
	}
	if file := a.v.GetString("config"); file != "" {
		a.v.SetConfigFile(file)
		a.v.SetConfigType("yaml")
		if err := a.v.ReadInConfig(); err != nil {
			return usageErrorf("peerlab: read config file %s: %v", file, err)
		}
		if err := checkConfigKeys(a.v, cmd.Root()); err != nil {
			return usageErrorf("peerlab: config file %s: %v", file, err)
		}
	}
	log, err := newLogger(a.v.GetString("log-level"), a.v.GetString("log-format"))
	if err != nil {
		return usageErrorf("peerlab: %v", err)
	}
	a.log = log
	return nil
}

// checkConfigKeys rejects config-file keys that name no flag of any command,
// so one config file can serve every command but a typo is still caught.
func checkConfigKeys(v *viper.Viper, root *cobra.Command) error {
	known := map[string]bool{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.LocalFlags().VisitAll(func(f *pflag.Flag) { known[f.Name] = true })
		c.PersistentFlags().VisitAll(func(f *pflag.Flag) { known[f.Name] = true })
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	var unknown []string
	for _, k := range v.AllKeys() {
		if !known[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		return errors.New("unknown key(s): " + strings.Join(unknown, ", "))
	}
	return nil
}

// newLogger builds the zap logger on stderr.
func newLogger(level, format string) (*zap.Logger, error) {
	return loggerTo(os.Stderr, level, format)
}
