package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

// Exit statuses shared by all commands.
const (
	// exitFailed: the command ran but its verdict is negative (an
	// expectation failed), or it hit a runtime error.
	exitFailed = 1
	// exitUsage: bad flags or bad input (an invalid topology).
	exitUsage = 2
)

// exitError carries an exit status out of a command.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// usageErrorf reports bad input with exit status 2.
func usageErrorf(format string, args ...any) error {
	return &exitError{code: exitUsage, msg: fmt.Sprintf(format, args...)}
}

// exactArgs is cobra.ExactArgs reporting a usage error (exit status 2).
func exactArgs(n int) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.ExactArgs(n)(cmd, args); err != nil {
			return usageErrorf("peerlab %s: %v\nUsage: %s", cmd.Name(), err, cmd.UseLine())
		}
		return nil
	}
}
