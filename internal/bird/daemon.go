package bird

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"

	"go.uber.org/zap"
)

// DaemonOptions says how to run one bird process.
type DaemonOptions struct {
	// Version selects the default binaries when Binaries is empty.
	Version Version
	// Binaries overrides DefaultBinaries(Version).
	Binaries Binaries
	// ConfigPath is the configuration file (bird -c).
	ConfigPath string
	// SocketPath is the control socket to create (bird -s); it must be
	// shorter than 108 bytes, the Unix socket path limit.
	SocketPath string
	// Stderr receives the daemon's own output; nil discards it.
	Stderr io.Writer
	// Logger receives start and stop events; nil means no logging.
	Logger *zap.Logger
	// Start starts the prepared command; nil means cmd.Start. The lab sets
	// it to start bird inside a node's network namespace. It must start
	// cmd as cmd.Start does, so that cmd.Wait can be called afterwards.
	Start func(cmd *exec.Cmd) error
}

// Daemon is a bird process running in the foreground (bird -f) as a child
// of this process. Stop it with Stop; it outlives this process otherwise
// (labs killed with SIGKILL are cleaned up by `peerlab clean`).
type Daemon struct {
	cmd    *exec.Cmd
	socket string
	log    *zap.Logger
	done   chan struct{}
	err    error // Wait's result, valid once done is closed
}

// StartDaemon starts bird and waits until its control socket answers or ctx
// ends. The process is not tied to ctx: it runs until Stop.
func StartDaemon(ctx context.Context, o DaemonOptions) (*Daemon, error) {
	bins := o.Binaries
	if bins.Bird == "" {
		bins = DefaultBinaries(o.Version)
	}
	if o.ConfigPath == "" || o.SocketPath == "" {
		return nil, errors.New("bird: start daemon: ConfigPath and SocketPath are required")
	}
	if len(o.SocketPath) >= 108 {
		return nil, fmt.Errorf("bird: start daemon: socket path %s is too long for a Unix socket", o.SocketPath)
	}
	log := o.Logger
	if log == nil {
		log = zap.NewNop()
	}
	log = log.With(zap.String("bird", bins.Bird), zap.String("socket", o.SocketPath))

	cmd := exec.Command(bins.Bird, "-f", "-c", o.ConfigPath, "-s", o.SocketPath)
	cmd.Stdout = o.Stderr
	cmd.Stderr = o.Stderr
	// No Pdeathsig: a detached lab's BIRD must outlive the process that
	// started it, and a lab killed with SIGKILL is cleaned up by `peerlab
	// clean`, which kills what still runs in the lab's namespaces.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	start := o.Start
	if start == nil {
		start = (*exec.Cmd).Start
	}
	if err := start(cmd); err != nil {
		return nil, fmt.Errorf("bird: start %s: %w", bins.Bird, err)
	}
	d := &Daemon{cmd: cmd, socket: o.SocketPath, log: log, done: make(chan struct{})}
	go func() {
		d.err = cmd.Wait()
		close(d.done)
	}()
	log.Info("bird started", zap.Int("pid", cmd.Process.Pid), zap.String("config", o.ConfigPath))

	if err := d.waitSocket(ctx); err != nil {
		_ = d.Stop()
		return nil, err
	}
	return d, nil
}

// waitSocket polls the control socket until a greeting arrives.
func (d *Daemon) waitSocket(ctx context.Context) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		c, err := Dial(ctx, d.socket)
		if err == nil {
			return c.Close()
		}
		select {
		case <-d.done:
			return fmt.Errorf("bird: daemon exited before its control socket %s answered: %v", d.socket, d.err)
		case <-ctx.Done():
			return fmt.Errorf("bird: wait for control socket %s: %w (last error: %v)", d.socket, ctx.Err(), err)
		case <-tick.C:
		}
	}
}

// Socket returns the control socket path.
func (d *Daemon) Socket() string { return d.socket }

// Pid returns the process ID.
func (d *Daemon) Pid() int { return d.cmd.Process.Pid }

// Dial connects a new Client to the daemon's control socket.
func (d *Daemon) Dial(ctx context.Context) (*Client, error) { return Dial(ctx, d.socket) }

// Done is closed when the process has exited.
func (d *Daemon) Done() <-chan struct{} { return d.done }

// Stop sends SIGTERM, waits up to five seconds for bird to shut down, then
// kills it. It is safe to call more than once.
func (d *Daemon) Stop() error {
	select {
	case <-d.done:
		return nil
	default:
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(5 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.done
	}
	_ = os.Remove(d.socket)
	d.log.Info("bird stopped", zap.Int("pid", d.cmd.Process.Pid))
	return nil
}
