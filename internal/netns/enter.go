package netns

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// A node "host" is a node namespace made into something that looks like a
// machine of its own: a process of the lab's (the node's init) is PID 1 of
// a new PID namespace and owns a mount namespace and a UTS namespace of
// its own, all inside the node's network namespace. Processes of the node
// are started in all four namespaces of that init with [StartProcessIn].

// hostNamespaces are the namespaces of a node's init that a process of the
// node joins, in the order they are joined. The mount namespace goes after
// the others: once in it, /proc is the node's.
var hostNamespaces = []struct {
	file string
	flag int
}{
	{"net", unix.CLONE_NEWNET},
	{"uts", unix.CLONE_NEWUTS},
	{"pid", unix.CLONE_NEWPID},
	{"mnt", unix.CLONE_NEWNS},
}

// HostCloneFlags are the namespaces a node's init is started in (with
// SysProcAttr.Cloneflags) besides the node's network namespace.
const HostCloneFlags = unix.CLONE_NEWPID | unix.CLONE_NEWNS | unix.CLONE_NEWUTS

// StartProcessIn starts cmd (as cmd.Start does) in the network, UTS, PID
// and mount namespaces of the process initPID, normally a node's init.
// The fork happens on an OS thread that joined those namespaces (joining a
// PID namespace only takes effect for children, hence the fork) and that
// the Go runtime then throws away, as its file system view can no longer
// be shared. So cmd must not ask for Pdeathsig: its parent thread ends as
// soon as cmd has started.
func StartProcessIn(initPID int, cmd *exec.Cmd) error {
	var fds []int
	defer func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}()
	for _, ns := range hostNamespaces {
		fd, err := unix.Open(fmt.Sprintf("/proc/%d/ns/%s", initPID, ns.file), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("start %s: open %s namespace of node init %d: %w", cmd.Path, ns.file, initPID, err)
		}
		fds = append(fds, fd)
	}
	err := onDiscardedThread(func() error {
		// The thread leaves this process's shared file system view, so
		// it must die with the goroutine.
		if err := unix.Unshare(unix.CLONE_FS); err != nil {
			return fmt.Errorf("unshare file system view: %w", err)
		}
		for i, ns := range hostNamespaces {
			if err := unix.Setns(fds[i], ns.flag); err != nil {
				return fmt.Errorf("join %s namespace of node init %d: %w", ns.file, initPID, err)
			}
		}
		return cmd.Start()
	})
	if err != nil {
		return fmt.Errorf("start %s in node of init %d: %w", cmd.Path, initPID, err)
	}
	return nil
}

// FindInit returns the host pid of the node init whose network namespace
// is the one mounted at nsPath: a process of that namespace that is PID 1
// of a PID namespace of its own. It returns 0 and no error when the node
// has no init (a lab made before node hosts existed).
func FindInit(nsPath string) (int, error) {
	ino, ok := nsInode(nsPath)
	if !ok {
		return 0, fmt.Errorf("%w: no namespace mounted at %s", ErrLabNotFound, nsPath)
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, fmt.Errorf("list processes: %w", err)
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || procNetns(pid) != ino {
			continue
		}
		if isNamespaceInit(pid) {
			return pid, nil
		}
	}
	return 0, nil
}

// isNamespaceInit reports whether pid is PID 1 of a PID namespace below
// ours ("NSpid: <pid> 1" in its status).
func isNamespaceInit(pid int) bool {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "NSpid:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		return len(f) >= 2 && f[len(f)-1] == "1"
	}
	return false
}

// StartProcessInNode starts cmd in the node whose network namespace is
// mounted at nsPath: in all the namespaces of its init when it has one,
// in the network namespace alone otherwise.
func StartProcessInNode(nsPath string, cmd *exec.Cmd) error {
	pid, err := FindInit(nsPath)
	if err != nil {
		return err
	}
	if pid == 0 {
		return StartProcessAt(nsPath, cmd)
	}
	return StartProcessIn(pid, cmd)
}

// HasProcess reports whether a process whose comm is comm runs in the
// network namespace mounted at nsPath (nginx started by hand in a node,
// say, which no lab object tracks).
func HasProcess(nsPath, comm string) bool {
	ino, ok := nsInode(nsPath)
	if !ok {
		return false
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return false
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || procNetns(pid) != ino {
			continue
		}
		if c, err := os.ReadFile("/proc/" + e.Name() + "/comm"); err == nil && strings.TrimSpace(string(c)) == comm {
			return true
		}
	}
	return false
}
