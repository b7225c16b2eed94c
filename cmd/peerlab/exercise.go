package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/peerlab/peerlab/exercise"
	"github.com/peerlab/peerlab/lab"
	"github.com/peerlab/peerlab/topologies"
)

// newExerciseCommand groups the training exercise commands.
func newExerciseCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "exercise list|start|status|hint|check|solve|stop",
		Short: "Training exercises: a broken lab, a task, hints and a check",
		Long: `exercise plays the training exercises built into peerlab (the repository's
topologies/exercises/; --exercises-dir plays others): start brings lab ex-NAME
up and breaks one node; you diagnose and repair it with peerlab exec (birdc,
the node's bird.cfg, nft, ip, nginx); check passes only when the cause is
repaired (docs/exercises.md).`,
	}
	cmd.PersistentFlags().String("exercises-dir", "", "folder of exercises, one NAME/{exercise,topology}.yaml each (default: the ones built into peerlab)")
	cmd.PersistentFlags().String("state-dir", "", "folder for lab state (default /run/peerlab as root, else per user)")
	one := func(use, short string, run func(*cobra.Command, *exercise.Exercise) error) *cobra.Command {
		return &cobra.Command{
			Use: use + " NAME", Short: short, Args: exactArgs(1),
			RunE: func(c *cobra.Command, args []string) error {
				fsys, where := a.exercises()
				e, err := exercise.Find(fsys, where, args[0])
				if err != nil {
					return usageErrorf("peerlab exercise %s: %v", use, err)
				}
				return run(c, e)
			},
		}
	}
	cmd.AddCommand(
		&cobra.Command{
			Use: "list", Short: "List the exercises", Args: exactArgs(0),
			RunE: func(c *cobra.Command, _ []string) error {
				all, err := exercise.LoadAll(a.exercises())
				if err != nil {
					return err
				}
				w := c.OutOrStdout()
				fmt.Fprintf(w, "%-24s %-44s %s\n", "NAME", "FAMILY", "TITLE")
				for _, e := range all {
					fmt.Fprintf(w, "%-24s %-44s %s\n", e.Name, e.Family, e.Title)
				}
				return nil
			},
		},
		one("start", "Bring the exercise's lab up, break it and print the task", func(c *cobra.Command, e *exercise.Exercise) error {
			if err := e.Start(c.Context(), a.exerciseRunner(), lab.TopologyCopy(a.stateDir(), e.Lab())); err != nil {
				return err
			}
			_ = os.Remove(a.hintFile(e))
			fmt.Fprintf(c.OutOrStdout(), "exercise %s started: lab %s (nodes: %s)\n\n%s\n%s\n"+
				"'peerlab exercise status %s' shows the sessions; 'peerlab exercise check %s' grades your fix.\n",
				e.Name, e.Lab(), nodeNames(e), e.Title, strings.TrimRight(e.Task, "\n"), e.Name, e.Name)
			return nil
		}),
		one("status", "Show the exercise lab's sessions, faults and timeline (peerlab status ex-NAME)", func(c *cobra.Command, e *exercise.Exercise) error {
			if err := a.requireExerciseLab(e); err != nil {
				return err
			}
			return a.printStatus(c, e.Lab(), "table", 0)
		}),
		one("hint", "Print the next hint (each call reveals one more)", func(c *cobra.Command, e *exercise.Exercise) error {
			n := a.hintsGiven(e)
			if n < len(e.Hints) {
				n++
			}
			if err := os.WriteFile(a.hintFile(e), []byte(strconv.Itoa(n)), 0o644); err != nil {
				return fmt.Errorf("remember hints given: %w", err)
			}
			for i := 0; i < n; i++ {
				fmt.Fprintf(c.OutOrStdout(), "hint %d/%d: %s\n", i+1, len(e.Hints), e.Hints[i])
			}
			return nil
		}),
		one("check", "Check whether the cause is repaired (exit 1 when not)", func(c *cobra.Command, e *exercise.Exercise) error {
			if err := a.requireExerciseLab(e); err != nil {
				return err
			}
			res := e.CheckSettled(c.Context(), a.exerciseRunner(), exercise.SettleWithin, func(exercise.Result) {
				fmt.Fprintf(c.OutOrStdout(), "the cause looks repaired; waiting up to %s for every session to be Established ...\n", exercise.SettleWithin)
			})
			return printResult(c, e, res, a.hintsGiven(e) >= len(e.Hints))
		}),
		one("solve", "Apply the reference solution through peerlab exec and check", func(c *cobra.Command, e *exercise.Exercise) error {
			r := a.exerciseRunner()
			w := c.OutOrStdout()
			for _, s := range e.Solution {
				fmt.Fprintf(w, "peerlab exec %s %s -- %s\n", e.Lab(), s.Node, shellQuote(s.Run))
			}
			if err := e.RunSteps(c.Context(), r, e.Solution); err != nil {
				return err
			}
			res := e.WaitCheck(c.Context(), r, 90*time.Second)
			if err := printResult(c, e, res, true); err != nil {
				return err
			}
			fmt.Fprintf(w, "\n%s", e.Explanation)
			return nil
		}),
		one("stop", "Tear the exercise's lab down", func(c *cobra.Command, e *exercise.Exercise) error {
			_ = os.Remove(a.hintFile(e))
			if err := e.Stop(c.Context(), a.exerciseRunner()); err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "exercise %s stopped\n", e.Name)
			return nil
		}),
	)
	return cmd
}

// printResult prints a check's verdict; a failed check exits 1. It says
// what is still wrong; the exact lines to write only with reveal (the
// student has seen every hint, or asked for the solution).
func printResult(c *cobra.Command, e *exercise.Exercise, res exercise.Result, reveal bool) error {
	w := c.OutOrStdout()
	if res.OK {
		fmt.Fprintf(w, "PASS %s: the cause is repaired and every session is Established\n", e.Name)
		return nil
	}
	fmt.Fprintf(w, "FAIL %s:\n", e.Name)
	for _, p := range res.Problems {
		fmt.Fprintf(w, "  - %s\n", p)
	}
	switch {
	case reveal && len(res.Answers) > 0:
		fmt.Fprintln(w, "what the check looks for:")
		for _, ans := range res.Answers {
			fmt.Fprintf(w, "  - %s\n", ans)
		}
	case !res.CauseFixed:
		fmt.Fprintf(w, "('peerlab exercise hint %s' gives one more hint per call)\n", e.Name)
	}
	return &exitError{code: 1}
}

// exercises is --exercises-dir, else the exercises built into peerlab,
// and how to name it in messages.
func (a *app) exercises() (fs.FS, string) {
	if d := a.v.GetString("exercises-dir"); d != "" {
		return os.DirFS(d), d
	}
	return topologies.Exercises(), "the exercises built into peerlab (--exercises-dir plays others)"
}

// exerciseWorkDir holds the hint counts of started exercises.
func (a *app) exerciseWorkDir() string { return filepath.Join(a.stateDir(), "exercises") }

// requireExerciseLab fails with a usage error when e's lab is not running.
func (a *app) requireExerciseLab(e *exercise.Exercise) error {
	if _, err := lab.ReadState(a.stateDir(), e.Lab()); errors.Is(err, lab.ErrLabNotFound) {
		return usageErrorf("exercise %s is not started (no lab %s): 'peerlab exercise start %s' starts it", e.Name, e.Lab(), e.Name)
	}
	return nil
}

// hintsGiven is how many hints of e were shown so far.
func (a *app) hintsGiven(e *exercise.Exercise) int {
	data, err := os.ReadFile(a.hintFile(e))
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	return n
}

// exerciseRunner runs this very peerlab binary for lab operations.
func (a *app) exerciseRunner() exercise.Runner {
	exe, err := os.Executable()
	if err != nil {
		exe = os.Args[0]
	}
	return exercise.BinaryRunner{Path: exe, StateDir: a.v.GetString("state-dir")}
}

// hintFile remembers how many hints of e were given.
func (a *app) hintFile(e *exercise.Exercise) string {
	dir := a.exerciseWorkDir()
	_ = os.MkdirAll(dir, 0o755)
	return filepath.Join(dir, e.Name+".hints")
}

// nodeNames lists e's nodes.
func nodeNames(e *exercise.Exercise) string {
	var names []string
	for _, n := range e.Topology.Nodes {
		names = append(names, n.Name)
	}
	return strings.Join(names, ", ")
}

// shellQuote renders argv for a shell, quoting words that need it.
func shellQuote(argv []string) string {
	out := make([]string, len(argv))
	for i, s := range argv {
		if s != "" && !strings.ContainsAny(s, " \t\n'\"$;&|<>()*?![]{}\\`#~") {
			out[i] = s
			continue
		}
		out[i] = "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	return strings.Join(out, " ")
}
