package capture

import (
	"context"
	"errors"
	"fmt"
	"runtime"

	"github.com/vishvananda/netns"
)

// StartIn is Start inside the network namespace mounted at nsPath (for
// example /run/netns/plab-lab--node1): the AF_PACKET socket is opened on a
// thread switched into that namespace and keeps it, so the capture then
// runs from any goroutine. It needs CAP_SYS_ADMIN (setns) besides
// CAP_NET_RAW.
func StartIn(ctx context.Context, nsPath string, opts Options) (*Capture, error) {
	target, err := netns.GetFromPath(nsPath)
	if err != nil {
		return nil, fmt.Errorf("capture: open namespace %s: %w", nsPath, err)
	}
	defer target.Close()
	type result struct {
		c   *Capture
		err error
	}
	done := make(chan result, 1)
	// A fresh goroutine locked to its thread: if switching back fails it
	// exits still locked, and the runtime throws the thread away rather
	// than run other goroutines in the wrong namespace.
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			done <- result{err: fmt.Errorf("capture: current namespace: %w", err)}
			return
		}
		defer orig.Close()
		if err := netns.Set(target); err != nil {
			runtime.UnlockOSThread()
			done <- result{err: fmt.Errorf("capture: enter namespace %s: %w", nsPath, err)}
			return
		}
		c, err := Start(ctx, opts)
		if rerr := netns.Set(orig); rerr != nil {
			if c != nil {
				err = errors.Join(err, c.Stop())
				c = nil
			}
			done <- result{err: errors.Join(err, fmt.Errorf("capture: leave namespace %s: %w", nsPath, rerr))}
			return // still locked: the thread dies with the goroutine
		}
		runtime.UnlockOSThread()
		if err != nil {
			err = fmt.Errorf("capture in namespace %s: %w", nsPath, err)
		}
		done <- result{c: c, err: err}
	}()
	r := <-done
	return r.c, r.err
}
