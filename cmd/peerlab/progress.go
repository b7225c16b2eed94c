package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// progressDelay is how long a command runs before it shows progress:
// quick commands print nothing; progressEvery throttles the updates.
const (
	progressDelay = time.Second
	progressEvery = 200 * time.Millisecond
)

// progress shows how far a long command is on one line of stderr,
// rewritten in place. It is on only when stdout is a terminal and the
// output is not JSON, so scripts and pipes see nothing of it.
type progress struct {
	w     io.Writer
	on    bool
	start time.Time
	now   func() time.Time

	mu    sync.Mutex
	last  time.Time
	shown bool
}

// newProgress is the progress of cmd: on when its stdout is a terminal
// and --output (if it has one) is not json.
func (a *app) newProgress(cmd *cobra.Command) *progress {
	f, ok := cmd.OutOrStdout().(*os.File)
	on := ok && term.IsTerminal(int(f.Fd())) && a.v.GetString("output") != "json"
	return newProgressTo(cmd.ErrOrStderr(), on, time.Now)
}

// newProgressTo writes to w when on, reading the time from now.
func newProgressTo(w io.Writer, on bool, now func() time.Time) *progress {
	return &progress{w: w, on: on, start: now(), now: now}
}

// Printf replaces the progress line, at most every progressEvery and not
// before progressDelay has passed.
func (p *progress) Printf(format string, args ...any) {
	if p == nil || !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if now.Sub(p.start) < progressDelay || now.Sub(p.last) < progressEvery {
		return
	}
	p.last, p.shown = now, true
	fmt.Fprintf(p.w, "\r\033[K"+format+" (%s)", append(args, now.Sub(p.start).Round(time.Second))...)
}

// Done clears the progress line, if one was shown.
func (p *progress) Done() {
	if p == nil || !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		fmt.Fprint(p.w, "\r\033[K")
		p.shown = false
	}
}

// countingReader counts the bytes read through it, for progress.
type countingReader struct {
	r io.Reader
	n int64
	// onRead is called after each read with the total so far.
	onRead func(n int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.onRead != nil {
		c.onRead(c.n)
	}
	return n, err
}
