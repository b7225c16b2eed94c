package netns

import (
	"errors"
	"fmt"
	"os/exec"
	"runtime"

	"golang.org/x/sys/unix"
)

// MountTemplate is a mount namespace that node hosts are cloned from: the
// host's mount tree, a slave of it, without the namespace mounts under
// RunDir.
//
// A process started with CLONE_NEWNS gets a copy of every mount of the
// namespace it is cloned from, and the copy is made by the kernel in the
// parent's clone call. Cloned from the host, each node of a 1,000-node lab
// copied the lab's 1,000 namespace mounts under /run/netns, a million
// mounts in all, made and later torn down by the lab process. Cloned from
// the template, each copies the host's few dozen. A node has no use for
// the lab's namespace files (a Kubernetes node has none of them either);
// the lab reaches the node's namespaces from the host.
type MountTemplate struct {
	fd int // the template namespace, held open (/proc/thread-self/ns/mnt)
}

// NewMountTemplate makes the template, on a thread of its own that is
// then discarded. Close releases it.
func NewMountTemplate() (*MountTemplate, error) {
	var fd int
	err := onDiscardedThread(func() error {
		if err := unix.Unshare(unix.CLONE_FS | unix.CLONE_NEWNS); err != nil {
			return fmt.Errorf("unshare mount namespace: %w", err)
		}
		// Mounts made here never reach the host.
		if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_SLAVE, ""); err != nil {
			return fmt.Errorf("make / a slave mount: %w", err)
		}
		err := unix.Unmount(RunDir, unix.MNT_DETACH)
		if err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("detach %s: %w", RunDir, err)
		}
		fd, err = unix.Open("/proc/thread-self/ns/mnt", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open template mount namespace: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("mount template: %w", err)
	}
	return &MountTemplate{fd: fd}, nil
}

// Close releases the template; hosts already cloned from it keep their
// copies.
func (t *MountTemplate) Close() error {
	if t == nil || t.fd < 0 {
		return nil
	}
	err := unix.Close(t.fd)
	t.fd = -1
	return err
}

// StartFromTemplate starts cmd (as cmd.Start does) in node's network
// namespace from a thread in template t's mount namespace, so that a new
// mount namespace cmd asks for in SysProcAttr.Cloneflags is a copy of the
// template's, not of the host's.
func (l *Lab) StartFromTemplate(node string, t *MountTemplate, cmd *exec.Cmd) error {
	n, err := l.node(node)
	if err != nil {
		return err
	}
	defer l.mu.RUnlock()
	err = onDiscardedThread(func() error {
		if err := unix.Unshare(unix.CLONE_FS); err != nil {
			return fmt.Errorf("unshare file system view: %w", err)
		}
		if err := unix.Setns(t.fd, unix.CLONE_NEWNS); err != nil {
			return fmt.Errorf("join template mount namespace: %w", err)
		}
		if err := unix.Setns(int(n.h.fd), unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("join network namespace: %w", err)
		}
		return cmd.Start()
	})
	if err != nil {
		return fmt.Errorf("lab %s: node %s: start %s: %w", l.name, node, cmd.Path, err)
	}
	return nil
}

// onDiscardedThread runs fn on a locked OS thread that is never unlocked,
// so the runtime ends the thread with its goroutine: fn may leave the
// thread's namespaces or file system view changed. The process's main
// thread is never used: the runtime does not end it (it parks it), and
// /proc/self names it, so a namespace left on it would become the one
// /proc/self/mountinfo and /proc/self/ns show for the whole process.
func onDiscardedThread(fn func() error) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if unix.Gettid() == unix.Getpid() {
			// Holding the main thread, the goroutine started here
			// cannot land on it.
			done <- onDiscardedThread(fn)
			runtime.UnlockOSThread()
			return
		}
		done <- fn()
	}()
	return <-done
}
