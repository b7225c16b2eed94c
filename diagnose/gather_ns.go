package diagnose

import (
	"errors"
	"fmt"
	"runtime"

	"github.com/vishvananda/netns"
)

// inNamespace runs fn on a fresh goroutine locked to its OS thread and
// switched into the network namespace mounted at nsPath ("" runs fn in the
// caller's namespace, still on a locked thread, so /proc/thread-self/net
// is the namespace fn works in). Sockets fn opens keep the namespace. If
// switching back fails the goroutine exits still locked and the runtime
// discards the thread.
func inNamespace(nsPath string, fn func() error) error {
	var target netns.NsHandle = -1
	if nsPath != "" {
		h, err := netns.GetFromPath(nsPath)
		if err != nil {
			return fmt.Errorf("open namespace %s: %w", nsPath, err)
		}
		target = h
		defer target.Close()
	}
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if target == -1 {
			err := fn()
			runtime.UnlockOSThread()
			done <- err
			return
		}
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			done <- fmt.Errorf("open current namespace: %w", err)
			return
		}
		defer orig.Close()
		if err := netns.Set(target); err != nil {
			runtime.UnlockOSThread()
			done <- fmt.Errorf("enter namespace %s: %w", nsPath, err)
			return
		}
		ferr := fn()
		if err := netns.Set(orig); err != nil {
			done <- errors.Join(ferr, fmt.Errorf("switch thread back: %w", err))
			return // still locked: the runtime ends this thread
		}
		runtime.UnlockOSThread()
		done <- ferr
	}()
	return <-done
}
