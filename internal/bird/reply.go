package bird

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxLineLen bounds one reply line; BIRD's own limit (CLI_LINE_SIZE) is 512
// bytes, so anything far longer means the stream is not a BIRD socket.
const maxLineLen = 64 * 1024

// Line is one line of a BIRD reply: its four-digit code and its text without
// the "CODE-" / "CODE " prefix. Continuation lines that BIRD sent with the
// short " " prefix carry the code of the line before them.
type Line struct {
	// Code is BIRD's reply code: 0xxx success, 1xxx table entry, 2xxx table
	// heading, 8xxx run-time error, 9xxx parse error.
	Code int
	// Text is the line's text after the prefix.
	Text string
}

// String renders the line the way `birdc -v` shows it.
func (l Line) String() string { return fmt.Sprintf("%04d %s", l.Code, l.Text) }

// ErrProtocol reports bytes on the control socket that do not follow BIRD's
// reply format.
var ErrProtocol = errors.New("bird: malformed control socket reply")

// lineKind classifies one raw line of the control socket stream.
type lineKind int

const (
	lineMore  lineKind = iota // "CODE-text" or " text": more lines follow
	lineFinal                 // "CODE text": last line of the reply
	lineAsync                 // "+text": spontaneous printout, not part of a reply
)

// parseRawLine splits one raw control-socket line (without its newline) into
// code, text and kind. prev is the code of the previous line of the same
// reply, used by " " continuation lines.
func parseRawLine(raw string, prev int) (code int, text string, kind lineKind, err error) {
	switch {
	case strings.HasPrefix(raw, "+"):
		return 0, raw[1:], lineAsync, nil
	case strings.HasPrefix(raw, " "):
		if prev < 0 {
			return 0, "", 0, fmt.Errorf("%w: continuation line %q with no code before it", ErrProtocol, raw)
		}
		return prev, raw[1:], lineMore, nil
	}
	if len(raw) < 4 {
		return 0, "", 0, fmt.Errorf("%w: short line %q", ErrProtocol, raw)
	}
	for i := 0; i < 4; i++ {
		c := raw[i]
		if c < '0' || c > '9' {
			return 0, "", 0, fmt.Errorf("%w: line %q does not start with a 4-digit code", ErrProtocol, raw)
		}
		code = code*10 + int(c-'0')
	}
	if len(raw) == 4 {
		return code, "", lineFinal, nil
	}
	switch raw[4] {
	case ' ':
		return code, raw[5:], lineFinal, nil
	case '-':
		return code, raw[5:], lineMore, nil
	default:
		return 0, "", 0, fmt.Errorf("%w: line %q: want ' ' or '-' after the code", ErrProtocol, raw)
	}
}

// ReadReply reads one complete BIRD reply from r: lines up to and including
// the first line whose code is followed by a space. Spontaneous "+" lines
// (log echo) are dropped. When the final code is 8000 or above the lines are
// returned together with an *Error carrying that code and text.
func ReadReply(r *bufio.Reader) ([]Line, error) {
	var lines []Line
	prev := -1
	for {
		raw, err := readLine(r)
		if err != nil {
			if errors.Is(err, io.EOF) {
				if len(lines) > 0 || raw != "" {
					return lines, fmt.Errorf("%w: connection closed in the middle of a reply", ErrProtocol)
				}
				return nil, io.EOF
			}
			return lines, err
		}
		code, text, kind, err := parseRawLine(raw, prev)
		if err != nil {
			return lines, err
		}
		if kind == lineAsync {
			continue
		}
		lines = append(lines, Line{Code: code, Text: text})
		prev = code
		if kind == lineFinal {
			if code >= 8000 {
				return lines, &Error{Code: code, Text: text}
			}
			return lines, nil
		}
	}
}

// readLine reads one '\n'-terminated line, without the terminator and a
// trailing '\r'. It refuses lines longer than maxLineLen.
func readLine(r *bufio.Reader) (string, error) {
	var b strings.Builder
	for {
		chunk, isPrefix, err := r.ReadLine()
		b.Write(chunk)
		if err != nil {
			return b.String(), err
		}
		if b.Len() > maxLineLen {
			return "", fmt.Errorf("%w: line longer than %d bytes", ErrProtocol, maxLineLen)
		}
		if !isPrefix {
			return strings.TrimSuffix(b.String(), "\r"), nil
		}
	}
}

// Text joins the texts of the lines with newlines, dropping the empty final
// "0000" line BIRD ends long replies with.
func Text(lines []Line) string {
	var b strings.Builder
	for i, l := range lines {
		if i == len(lines)-1 && l.Code == 0 && l.Text == "" {
			break
		}
		b.WriteString(l.Text)
		b.WriteByte('\n')
	}
	return b.String()
}
