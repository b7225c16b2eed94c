package bird

import (
	"errors"
	"fmt"
)

// Reply codes callers commonly test for (BIRD's doc/reply_codes).
const (
	CodeOK               = 0
	CodeWelcome          = 1
	CodeReadingConfig    = 2
	CodeReconfigured     = 3
	CodeAlreadyDisabled  = 8
	CodeDisabled         = 9
	CodeAlreadyEnabled   = 10
	CodeEnabled          = 11
	CodeRouteCount       = 14
	CodeProtocolList     = 1002
	CodeProtocolDetails  = 1006
	CodeConfigFileError  = 8002
	CodeNoProtocolsMatch = 8003
	CodeParseError       = 9001
	CodeInvalidSymbol    = 9002
)

// Error is an error reply from BIRD: a final line with code 8xxx (run-time
// error) or 9xxx (parse error, including an unknown protocol name).
type Error struct {
	// Code is BIRD's reply code, e.g. 8002 or 9001.
	Code int
	// Text is BIRD's message, e.g. "syntax error" or "x is not a protocol".
	Text string
}

// Error implements error.
func (e *Error) Error() string { return fmt.Sprintf("bird: %04d %s", e.Code, e.Text) }

// Runtime reports whether BIRD failed while running the command (8xxx).
func (e *Error) Runtime() bool { return e.Code >= 8000 && e.Code < 9000 }

// Syntax reports whether BIRD could not parse the command (9xxx).
func (e *Error) Syntax() bool { return e.Code >= 9000 }

// ErrorCode returns the BIRD reply code carried by err, or 0 when err is not
// (and does not wrap) an *Error.
func ErrorCode(err error) int {
	var be *Error
	if errors.As(err, &be) {
		return be.Code
	}
	return 0
}
