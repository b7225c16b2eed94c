package main

import "fmt"

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
