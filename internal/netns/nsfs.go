package netns

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// ensureRunDir makes RunDir exist and be a shared mount point, as
// `ip netns add` does, so namespace mounts made later propagate to other
// mount namespaces (a process started in a new mount namespace, say).
func ensureRunDir() error {
	if err := os.MkdirAll(RunDir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", RunDir, err)
	}
	err := unix.Mount("", RunDir, "none", unix.MS_SHARED|unix.MS_REC, "")
	if errors.Is(err, unix.EINVAL) { // not a mount point yet
		if err = unix.Mount(RunDir, RunDir, "none", unix.MS_BIND|unix.MS_REC, ""); err == nil {
			err = unix.Mount("", RunDir, "none", unix.MS_SHARED|unix.MS_REC, "")
		}
	}
	if err != nil {
		return fmt.Errorf("make %s a shared mount: %w", RunDir, err)
	}
	return nil
}

// nsPath returns the path of the named namespace name.
func nsPath(name string) string { return filepath.Join(RunDir, name) }

// namedNS is a namespace just created by createNamed.
type namedNS struct {
	fd netns.NsHandle
	// nl is a rtnetlink handle whose socket lives in the namespace.
	nl *netlink.Handle
}

// createNamed makes a new network namespace, bind-mounts it at
// RunDir/name like `ip netns add`, brings lo up and returns an open handle
// and a rtnetlink socket inside it. The mount point is created first with
// O_EXCL, so an existing namespace of that name yields os.ErrExist and is
// left alone. On error nothing is left behind except, after a crash, an
// empty file or a mount that Clean removes. setup, when not nil, runs on
// the thread inside the new namespace before anything else (sysctls that
// must be set before links arrive).
func createNamed(name string, setup func() error) (ns namedNS, err error) {
	path := nsPath(name)
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE|os.O_EXCL, 0o444)
	if err != nil {
		return ns, fmt.Errorf("create mount point: %w", err)
	}
	f.Close()
	defer func() {
		if err != nil {
			_ = unix.Unmount(path, unix.MNT_DETACH)
			_ = os.Remove(path)
		}
	}()
	err = onFreshThread(func() error {
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("unshare: %w", err)
		}
		// From here this thread is in the new namespace until the switch back.
		if setup != nil {
			if err := setup(); err != nil {
				return err
			}
		}
		fd, err := netns.Get()
		if err != nil {
			return fmt.Errorf("open new namespace: %w", err)
		}
		if err := unix.Mount("/proc/thread-self/ns/net", path, "none", unix.MS_BIND, ""); err != nil {
			fd.Close()
			return fmt.Errorf("bind-mount at %s: %w", path, err)
		}
		h, err := netlink.NewHandle(unix.NETLINK_ROUTE) // socket bound to this thread's namespace
		if err != nil {
			fd.Close()
			return fmt.Errorf("open netlink socket: %w", err)
		}
		ns = namedNS{fd: fd, nl: h}
		return nil
	})
	if err != nil {
		return namedNS{}, err
	}
	if err := ns.nl.LinkSetUp(&netlink.Device{LinkAttrs: netlink.LinkAttrs{Index: 1, Name: "lo"}}); err != nil {
		ns.close()
		return namedNS{}, fmt.Errorf("set lo up: %w", err)
	}
	return ns, nil
}

// close releases the handle and the file descriptor (not the namespace).
// The zero namedNS holds nothing: its fd 0 is not ours to close.
func (ns *namedNS) close() {
	if ns.nl == nil {
		return
	}
	ns.nl.Close()
	ns.nl = nil
	ns.fd.Close() // sets fd to -1
}

// unmountNamed removes the named namespace's mount and mount point; the
// namespace itself goes when nothing else holds it. A missing name is not
// an error, so this is idempotent.
func unmountNamed(name string) error {
	path := nsPath(name)
	// Loop: a mount point may carry more than one mount after a race.
	for i := 0; i < 8; i++ {
		err := unix.Unmount(path, unix.MNT_DETACH)
		if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOENT) {
			break
		}
		if err != nil {
			return fmt.Errorf("unmount %s: %w", path, err)
		}
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", path, err)
	}
	return nil
}

// nsInode returns the inode of the namespace mounted at path, and false if
// path is not a mounted network namespace (an empty mount point left by a
// crash, say).
func nsInode(path string) (uint64, bool) {
	var fs unix.Statfs_t
	if err := unix.Statfs(path, &fs); err != nil || fs.Type != unix.NSFS_MAGIC {
		return 0, false
	}
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return 0, false
	}
	return st.Ino, true
}

// onFreshThread runs fn on a new goroutine locked to its OS thread and
// switches the thread back to the namespace it started in afterwards. If it
// cannot switch back, the goroutine exits without unlocking, so the runtime
// discards the thread rather than reuse it in the wrong namespace. A panic
// in fn is re-raised in the caller.
func onFreshThread(fn func() error) error {
	type result struct {
		err   error
		panic any
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			done <- result{err: fmt.Errorf("open current namespace: %w", err)}
			return
		}
		defer orig.Close()
		var res result
		func() {
			defer func() { res.panic = recover() }()
			res.err = fn()
		}()
		if err := netns.Set(orig); err != nil {
			res.err = errors.Join(res.err, fmt.Errorf("switch thread back to its namespace: %w", err))
			done <- res
			return // still locked: the runtime ends this thread
		}
		runtime.UnlockOSThread()
		done <- res
	}()
	res := <-done
	if res.panic != nil {
		panic(res.panic)
	}
	return res.err
}

// inNamespace runs fn on a locked OS thread switched into target.
func inNamespace(target netns.NsHandle, fn func() error) error {
	return onFreshThread(func() error {
		if err := netns.Set(target); err != nil {
			return fmt.Errorf("enter namespace: %w", err)
		}
		return fn()
	})
}
