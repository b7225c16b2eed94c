// Package nodeinit is PID 1 of a namespace-mode lab node: the small init
// process that makes a node look like a host of its own.
//
// The lab starts it (as `peerlab-init`, dispatched on argv[0]) inside the
// node's network namespace with new PID, mount and UTS namespaces. It
// makes its mount tree a slave of the host's (so nothing it mounts leaks
// out, while mounts made on the host still show; the lab clones it from a
// copy of the host's tree without the lab's namespace files,
// netns.MountTemplate),
// sets the hostname to the node's name, bind-mounts the node's folders at
// the paths a real Kubernetes/Calico node has them (/etc/calico,
// /var/run/calico, /etc/kubernetes …), mounts a /proc of its own PID
// namespace and a /sys of the node's network namespace, then says "ready"
// on its standard output. From then on it reaps orphans; on SIGTERM it
// passes SIGTERM to every process of the node and exits, and when it
// exits the kernel kills whatever is left in the node's PID namespace.
// Its mount namespace goes with its last process, so a killed lab leaves
// no mount behind either.
package nodeinit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Name is the program name (argv[0]) the init runs under; the lab's
// executable dispatches on it.
const Name = "peerlab-init"

// Ready is the line the init prints once the node is set up.
const Ready = "ready"

// termGrace is how long the processes of the node have between the init's
// SIGTERM and the kernel's SIGKILL when the init exits.
const termGrace = 2 * time.Second

// Bind is one bind mount of a node: Source (a folder of the node's, on the
// host) shows at Target inside the node.
type Bind struct {
	Source, Target string
}

// String is the flag form SOURCE:TARGET.
func (b Bind) String() string { return b.Source + ":" + b.Target }

// BindsEnv is the environment variable that carries the binds to the
// init, one SOURCE:TARGET a line, so that the node's process list shows
// a short command line: `peerlab-init NODE`.
const BindsEnv = "PEERLAB_INIT_BINDS"

// Command returns the init's arguments (after argv[0]) and the
// environment entry for a node called hostname with binds.
func Command(hostname string, binds []Bind) (args []string, env string) {
	lines := make([]string, len(binds))
	for i, b := range binds {
		lines[i] = b.String()
	}
	return []string{hostname}, BindsEnv + "=" + strings.Join(lines, "\n")
}

// Main is the init's whole life; args exclude argv[0] and are the node's
// hostname; binds come from BindsEnv. It returns the exit status.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 {
		fmt.Fprintf(stderr, "usage: %s HOSTNAME (binds in %s)\n", Name, BindsEnv)
		return 2
	}
	if err := SetUpHost(args[0]); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", Name, err)
		return 2
	}
	_ = os.WriteFile("/proc/self/comm", []byte(Name), 0)
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, unix.SIGCHLD, unix.SIGTERM, unix.SIGINT)
	fmt.Fprintln(stdout, Ready)
	if f, ok := stdout.(*os.File); ok {
		_ = f.Close()
	}
	for s := range sigs {
		reap()
		if s == unix.SIGTERM || s == unix.SIGINT {
			stopAll()
			return 0
		}
	}
	return 0
}

// SetUpHost makes the calling process, which must be PID 1 of a new PID
// namespace, the host of node hostname: its mount tree, the binds
// BindsEnv names, its hostname, /proc and /sys. Main does it for the
// init; a program that is a node's host itself (a gobgp node's agent,
// as gobgpd is PID 1 of a router container) calls it first, then
// [ReapOrphans].
func SetUpHost(hostname string) error {
	var binds bindList
	for _, line := range strings.Split(os.Getenv(BindsEnv), "\n") {
		if line == "" {
			continue
		}
		if err := binds.Set(line); err != nil {
			return fmt.Errorf("%s: %w", BindsEnv, err)
		}
	}
	if os.Getpid() != 1 {
		return errors.New("must be PID 1 of a new PID namespace (the lab starts it)")
	}
	return setUp(hostname, binds)
}

// ReapOrphans collects, until ctx ends, every process that exits in the
// node after the caller, PID 1, inherited it (what `peerlab exec` left
// running, say). The caller must start no children of its own that it
// waits for: their status would be collected here.
func ReapOrphans(ctx context.Context) {
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, unix.SIGCHLD)
	go func() {
		defer signal.Stop(sigs)
		for {
			select {
			case <-ctx.Done():
				return
			case <-sigs:
				reap()
			}
		}
	}()
}

// setUp makes the node's mount tree, hostname, /proc and /sys.
func setUp(hostname string, binds []Bind) error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_SLAVE, ""); err != nil {
		return fmt.Errorf("make / a slave mount: %w", err)
	}
	if hostname != "" {
		if err := unix.Sethostname([]byte(hostname)); err != nil {
			return fmt.Errorf("set hostname %s: %w", hostname, err)
		}
	}
	for _, b := range binds {
		if err := bind(b); err != nil {
			return err
		}
	}
	if err := unix.Mount("proc", "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount /proc: %w", err)
	}
	// /sys/class/net of the node's own network namespace; not fatal.
	_ = unix.Mount("sysfs", "/sys", "sysfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC|unix.MS_RDONLY, "")
	return nil
}

// bind mounts b.Source at b.Target, creating the mount point (an empty
// folder or file) when the host has none.
func bind(b Bind) error {
	st, err := os.Stat(b.Source)
	if err != nil {
		return fmt.Errorf("bind %s: %w", b, err)
	}
	if st.IsDir() {
		err = os.MkdirAll(b.Target, 0o755)
	} else if _, serr := os.Stat(b.Target); errors.Is(serr, os.ErrNotExist) {
		if err = os.MkdirAll(filepath.Dir(b.Target), 0o755); err == nil {
			var f *os.File
			if f, err = os.OpenFile(b.Target, os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
				err = f.Close()
			}
		}
	}
	if err != nil {
		return fmt.Errorf("bind %s: mount point: %w", b, err)
	}
	if err := unix.Mount(b.Source, b.Target, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind %s: %w", b, err)
	}
	return nil
}

// reap collects every child that has exited.
func reap() {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}

// stopAll sends SIGTERM to every other process of the node and gives them
// termGrace to go; the kernel kills the rest when the init returns.
func stopAll() {
	_ = unix.Kill(-1, unix.SIGTERM)
	deadline := time.Now().Add(termGrace)
	for time.Now().Before(deadline) {
		if !othersAlive() {
			return
		}
		reap()
		time.Sleep(20 * time.Millisecond)
	}
}

// othersAlive reports whether the node's PID namespace holds a process
// other than the init that is not a zombie.
func othersAlive() bool {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return false
	}
	for _, e := range entries {
		if e.Name() == "1" || e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		if i := strings.LastIndexByte(string(stat), ')'); i > 0 && len(stat) > i+2 && stat[i+2] != 'Z' {
			return true
		}
	}
	return false
}

// bindList collects -bind flags.
type bindList []Bind

func (l *bindList) String() string {
	parts := make([]string, len(*l))
	for i, b := range *l {
		parts[i] = b.String()
	}
	return strings.Join(parts, ",")
}

func (l *bindList) Set(v string) error {
	src, dst, ok := strings.Cut(v, ":")
	if !ok || !filepath.IsAbs(src) || !filepath.IsAbs(dst) {
		return fmt.Errorf("%q is not SOURCE:TARGET with absolute paths", v)
	}
	*l = append(*l, Bind{Source: src, Target: dst})
	return nil
}
