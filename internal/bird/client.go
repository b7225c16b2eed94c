package bird

// BIRD's control socket protocol, as implemented by nest/cli.c and read by
// client/client.c in BIRD's source:
//
//   - The socket is a Unix stream socket (bird -s PATH; /run/bird/bird.ctl by
//     default). Right after connect the daemon greets with one final line,
//     "0001 BIRD 1.6.8 ready.".
//   - A request is one line of text, the same command birdc takes, ended by
//     '\n'. Only one request is in flight at a time: the daemon reads the next
//     command only after it has written the whole reply to the previous one.
//   - A reply is a sequence of lines. Each starts with a four-digit code and
//     then '-' when more lines follow or ' ' on the last line ("0000 " ends
//     most table replies, "0003 Reconfigured" ends a configure). A line that
//     continues the previous line's code may instead start with a single ' '
//     in place of the whole "CODE-" prefix.
//   - Codes: 0xxx success, 1xxx table entries (1002 protocol list, 1006
//     protocol details), 2xxx table headings (2002), 8xxx run-time errors
//     (8002 config file error, 8003 no protocols match) and 9xxx parse
//     errors (9001 syntax error, 9002 "x is not a protocol"). The final
//     line's code decides whether the command failed.
//   - Lines starting with '+' are spontaneous log messages (after `echo`);
//     they are not part of any reply and are dropped here.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"
)

// ErrClosed is returned by a Client that was closed or whose connection broke
// (for instance after a context was cancelled in the middle of a reply).
var ErrClosed = errors.New("bird: client closed")

// Client is a connection to one BIRD control socket. It is safe for
// concurrent use; commands are serialised as the protocol requires.
type Client struct {
	mu      sync.Mutex
	conn    net.Conn
	r       *bufio.Reader
	version string
	broken  error
}

// Dial connects to the control socket at socketPath and reads BIRD's greeting.
func Dial(ctx context.Context, socketPath string) (*Client, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", socketPath)
	if err != nil {
		return nil, fmt.Errorf("bird: dial control socket %s: %w", socketPath, err)
	}
	c := &Client{conn: conn, r: bufio.NewReader(conn)}
	lines, err := c.exchange(ctx, "")
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("bird: read greeting on %s: %w", socketPath, err)
	}
	last := lines[len(lines)-1]
	if last.Code != CodeWelcome {
		conn.Close()
		return nil, fmt.Errorf("%w: greeting on %s is %q, want code 0001", ErrProtocol, socketPath, last.String())
	}
	c.version = versionFromGreeting(last.Text)
	return c, nil
}

// versionFromGreeting extracts "1.6.8" from "BIRD 1.6.8 ready.".
func versionFromGreeting(text string) string {
	f := strings.Fields(text)
	if len(f) >= 2 && f[0] == "BIRD" {
		return f[1]
	}
	return ""
}

// Version returns the daemon's version from its greeting, e.g. "2.0.12".
func (c *Client) Version() string { return c.version }

// Major returns Bird1 for a 1.x daemon and Bird2 for 2.x and later.
func (c *Client) Major() Version {
	if strings.HasPrefix(c.version, "1.") {
		return Bird1
	}
	return Bird2
}

// Close closes the connection.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.broken == nil {
		c.broken = ErrClosed
	}
	return c.conn.Close()
}

// Cmd sends one command line (as typed into birdc) and returns the reply
// lines with their codes. When the reply ends in an 8xxx or 9xxx code the
// lines are returned together with an *Error.
func (c *Client) Cmd(ctx context.Context, line string) ([]Line, error) {
	line = strings.TrimSpace(line)
	if line == "" || strings.ContainsAny(line, "\r\n") {
		return nil, fmt.Errorf("bird: command %q must be one non-empty line", line)
	}
	lines, err := c.exchange(ctx, line)
	if err != nil {
		return lines, fmt.Errorf("bird: %q: %w", line, err)
	}
	return lines, nil
}

// exchange writes cmd (unless empty) and reads one reply, honouring ctx by
// moving the connection deadline. A transport failure breaks the client,
// since the stream can no longer be trusted to be in step.
func (c *Client) exchange(ctx context.Context, cmd string) ([]Line, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.broken != nil {
		return nil, c.broken
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	deadline, _ := ctx.Deadline()
	if err := c.conn.SetDeadline(deadline); err != nil {
		return nil, fmt.Errorf("set deadline: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { _ = c.conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	if cmd != "" {
		if _, err := c.conn.Write([]byte(cmd + "\n")); err != nil {
			return nil, c.fail(ctx, fmt.Errorf("write: %w", err))
		}
	}
	lines, err := ReadReply(c.r)
	if err != nil {
		var be *Error
		if errors.As(err, &be) {
			return lines, err
		}
		return lines, c.fail(ctx, err)
	}
	return lines, nil
}

// fail marks the client broken and prefers the context's error when the
// failure came from a cancelled or expired context.
func (c *Client) fail(ctx context.Context, err error) error {
	_, hasDeadline := ctx.Deadline()
	switch ctxErr := ctx.Err(); {
	case ctxErr != nil:
		err = fmt.Errorf("%w (%v)", ctxErr, err)
	case hasDeadline && errors.Is(err, os.ErrDeadlineExceeded):
		// The socket deadline is the context's and can fire a moment
		// before the context itself reports it.
		err = fmt.Errorf("%w (%v)", context.DeadlineExceeded, err)
	}
	c.broken = fmt.Errorf("%w: %v", ErrClosed, err)
	_ = c.conn.Close()
	return err
}
