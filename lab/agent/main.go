package agent

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/peerlab/peerlab/lab/nodeinit"
)

// ProcessName is the name (argv[0]) a lab starts an agent under: what it
// stands for in the node's process list, GoBGP's daemon. The lab's
// executable dispatches on it (lab.RunBuiltin) before any command-line
// setup, so an agent starts with no more work than it needs.
const ProcessName = "gobgpd"

// ListenFDFlag is the flag that hands an agent the listening socket the
// lab already made (the file descriptor number, 3 for the first of
// exec.Cmd.ExtraFiles). The lab can dial it at once: its connections wait
// in the socket's backlog until the agent serves them, so nobody polls
// for the socket to appear.
const ListenFDFlag = "listen-fd"

// HostFlag makes an agent the host of its node before it serves: PID 1 of
// the node's PID namespace, with the node's mount tree and hostname set up
// as the node init (lab/nodeinit) does for other nodes. A gobgp node then
// is one process, as a gobgpd container is, instead of an init and an
// agent; when the agent exits the node's PID namespace goes with it.
const HostFlag = "host"

// Main is an agent process: it parses args (the arguments after argv[0]),
// serves until a Close call, SIGTERM or SIGINT, and returns the exit code.
// Its log is JSON on stderr, which the lab points at the node's agent log.
func Main(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet(ProcessName, flag.ContinueOnError)
	fs.SetOutput(stderr)
	sock := fs.String("socket", "", "Unix socket to serve the agent protocol on (a stale one is replaced)")
	fd := fs.Int(ListenFDFlag, -1, "serve the listening socket at this file descriptor (bound at --socket by the lab)")
	level := fs.String("log-level", "info", "log level: debug, info, warn or error")
	host := fs.String(HostFlag, "", "be the host of this node first: PID 1 of its own PID, mount and UTS namespaces (binds in "+nodeinit.BindsEnv+")")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *sock == "" || fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: usage: %s --socket PATH [--%s N] [--log-level LEVEL]\n", ProcessName, ProcessName, ListenFDFlag)
		return 2
	}
	lvl, err := zapcore.ParseLevel(*level)
	if err != nil {
		fmt.Fprintf(stderr, "%s: --log-level: %v\n", ProcessName, err)
		return 2
	}
	log := zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()),
		zapcore.Lock(zapcore.AddSync(stderr)), lvl))
	defer func() { _ = log.Sync() }()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if *host != "" {
		if err := nodeinit.SetUpHost(*host); err != nil {
			fmt.Fprintf(stderr, "%s: host of node %s: %v\n", ProcessName, *host, err)
			return 1
		}
		nodeinit.ReapOrphans(ctx)
	}
	if *fd >= 0 {
		err = RunInherited(ctx, *sock, *fd, log)
	} else {
		err = Run(ctx, *sock, log)
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		log.Error("agent failed", zap.Error(err))
		fmt.Fprintf(stderr, "%s: %v\n", ProcessName, err)
		return 1
	}
	return 0
}

// RunInherited is [Run] on a listening Unix socket the process inherited
// as file descriptor fd, bound at path by its parent ([ListenFor]). The
// socket file is removed when the agent is done, as Run's is.
func RunInherited(ctx context.Context, path string, fd int, log *zap.Logger) error {
	if log == nil {
		log = zap.NewNop()
	}
	f := os.NewFile(uintptr(fd), "agent-listener")
	if f == nil {
		return fmt.Errorf("agent: listen fd %d is not open", fd)
	}
	ln, err := net.FileListener(f)
	_ = f.Close() // FileListener holds a duplicate
	if err != nil {
		return fmt.Errorf("agent: listen fd %d: %w", fd, err)
	}
	ul, ok := ln.(*net.UnixListener)
	if !ok {
		_ = ln.Close()
		return fmt.Errorf("agent: listen fd %d is not a Unix socket", fd)
	}
	if got := ul.Addr().String(); got != path {
		_ = ln.Close()
		return fmt.Errorf("agent: listen fd %d is bound at %q, not %s", fd, got, path)
	}
	ul.SetUnlinkOnClose(true)
	log.Info("agent listening", zap.String("socket", path), zap.Int("pid", os.Getpid()), zap.Int("fd", fd))
	err = Serve(ctx, ln, log)
	log.Info("agent done", zap.Error(err))
	return err
}

// ListenFor binds the Unix socket at path for a child agent (the same
// checks as [Listen]) and returns it as a file to pass in
// exec.Cmd.ExtraFiles. The caller closes the file once the child has
// started; the socket file stays for the child, which removes it when it
// is done.
func ListenFor(path string) (*os.File, error) {
	ln, err := Listen(path)
	if err != nil {
		return nil, err
	}
	ul := ln.(*net.UnixListener)
	ul.SetUnlinkOnClose(false)
	f, err := ul.File()
	_ = ul.Close()
	if err != nil {
		_ = os.Remove(path)
		return nil, fmt.Errorf("agent: listener file for %s: %w", path, err)
	}
	return f, nil
}
