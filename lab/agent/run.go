package agent

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"time"

	"go.uber.org/zap"
)

// Listen opens the agent's Unix socket at path. A socket file left there by
// an agent that is gone is removed first; a live agent on it, or a file
// that is not a socket, is an error. The listener removes the file when
// closed.
func Listen(path string) (net.Listener, error) {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("agent: listen on %s: %w", path, err)
	case fi.Mode()&fs.ModeSocket == 0:
		return nil, fmt.Errorf("agent: listen on %s: exists and is not a socket", path)
	default:
		if c, derr := net.DialTimeout("unix", path, time.Second); derr == nil {
			_ = c.Close()
			return nil, fmt.Errorf("agent: listen on %s: another agent is serving it", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("agent: remove stale socket: %w", err)
		}
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	return ln, nil
}

// Run is an agent process's whole life: it listens on path and serves
// until a Close call or until ctx ends (the caller cancels it on SIGTERM).
func Run(ctx context.Context, path string, log *zap.Logger) error {
	if log == nil {
		log = zap.NewNop()
	}
	ln, err := Listen(path)
	if err != nil {
		return err
	}
	log.Info("agent listening", zap.String("socket", path), zap.Int("pid", os.Getpid()))
	err = Serve(ctx, ln, log)
	log.Info("agent done", zap.Error(err))
	return err
}
