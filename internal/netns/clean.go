package netns

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
	"golang.org/x/sys/unix"
)

// killGrace is how long a process found in a lab namespace has between
// SIGTERM and SIGKILL, and then how long SIGKILL may take.
const killGrace = 2 * time.Second

// Removed counts what [Clean] removed.
type Removed struct {
	// Namespaces is the number of names removed from /run/netns.
	Namespaces int
	// Processes is the number of processes signalled because they ran in
	// one of those namespaces.
	Processes int
}

// Clean removes every namespace of lab, or of every lab when lab is "",
// from /run/netns, killing first the processes still running in them
// (SIGTERM, then SIGKILL after a grace period). It needs nothing but the
// names on the host, so it works after the process that made a lab died by
// SIGKILL at any point; it is idempotent. A nil log logs nothing.
func Clean(ctx context.Context, lab string, log *zap.Logger) (Removed, error) {
	if log == nil {
		log = zap.NewNop()
	}
	if lab != "" {
		if err := ValidateLabName(lab); err != nil {
			return Removed{}, err
		}
	}
	names, err := labNamespaces(lab)
	if err != nil {
		return Removed{}, err
	}
	removed, err := removeNamespaces(ctx, names, log)
	if err != nil {
		return removed, fmt.Errorf("clean %q: %w", lab, err)
	}
	if removed.Namespaces > 0 {
		log.Info("cleaned", zap.String("lab", lab), zap.Int("namespaces", removed.Namespaces),
			zap.Int("processes", removed.Processes))
	}
	return removed, nil
}

// removeNamespaces kills the processes in the named namespaces, then
// unmounts and deletes the names. Names already gone are skipped.
func removeNamespaces(ctx context.Context, names []string, log *zap.Logger) (Removed, error) {
	var removed Removed
	inodes := map[uint64]string{}
	for _, name := range names {
		if ino, ok := nsInode(nsPath(name)); ok {
			inodes[ino] = name
		}
	}
	var errs []error
	if len(inodes) > 0 {
		n, err := killIn(ctx, inodes, log)
		removed.Processes = n
		if err != nil {
			errs = append(errs, err)
		}
	}
	var mu sync.Mutex
	// Not cancelled by ctx: a half-removed lab is worse than a slow one.
	_ = parallel(context.Background(), len(names), defaultWorkers, func(i int) error {
		_, statErr := os.Lstat(nsPath(names[i]))
		err := unmountNamed(names[i])
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err != nil:
			errs = append(errs, err)
		case statErr == nil:
			removed.Namespaces++
		}
		return nil
	})
	return removed, errors.Join(errs...)
}

// victim is a process found in a lab namespace, held by a pidfd so a
// recycled pid is never signalled.
type victim struct {
	pid  int
	fd   int
	gone bool
}

// killIn signals every process (other than this one) whose network
// namespace is one of inodes: SIGTERM, then SIGKILL to those still alive
// after killGrace. It returns how many it signalled.
func killIn(ctx context.Context, inodes map[uint64]string, log *zap.Logger) (int, error) {
	victims, err := findIn(inodes)
	if err != nil {
		return 0, err
	}
	if len(victims) == 0 {
		return 0, nil
	}
	defer func() {
		for _, v := range victims {
			unix.Close(v.fd)
		}
	}()
	for _, v := range victims {
		log.Info("stopping process left in lab namespace", zap.Int("pid", v.pid))
		if err := unix.PidfdSendSignal(v.fd, unix.SIGTERM, nil, 0); err != nil {
			v.gone = errors.Is(err, unix.ESRCH)
		}
	}
	if waitGone(ctx, victims, killGrace) {
		return len(victims), nil
	}
	for _, v := range victims {
		if !v.gone {
			log.Warn("killing process that ignored SIGTERM", zap.Int("pid", v.pid))
			_ = unix.PidfdSendSignal(v.fd, unix.SIGKILL, nil, 0)
		}
	}
	if !waitGone(context.Background(), victims, killGrace) {
		var alive []string
		for _, v := range victims {
			if !v.gone {
				alive = append(alive, strconv.Itoa(v.pid))
			}
		}
		return len(victims), fmt.Errorf("processes %s survived SIGKILL", strings.Join(alive, ", "))
	}
	return len(victims), nil
}

// findIn lists the processes whose network namespace is one of inodes,
// each opened as a pidfd. Only each process's main thread is looked at.
func findIn(inodes map[uint64]string) ([]*victim, error) {
	dir, err := os.Open("/proc")
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	defer dir.Close()
	entries, err := dir.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	self := os.Getpid()
	var out []*victim
	for _, e := range entries {
		pid, err := strconv.Atoi(e)
		if err != nil || pid == self {
			continue
		}
		if _, ok := inodes[procNetns(pid)]; !ok {
			continue
		}
		fd, err := unix.PidfdOpen(pid, 0)
		if err != nil {
			continue // exited meanwhile
		}
		// Check again through the pidfd's pid: it may have been recycled
		// between the look and the open.
		if _, ok := inodes[procNetns(pid)]; !ok {
			unix.Close(fd)
			continue
		}
		out = append(out, &victim{pid: pid, fd: fd})
	}
	return out, nil
}

// procNetns returns the inode of pid's network namespace, 0 if unknown
// (the process is gone or a zombie).
func procNetns(pid int) uint64 {
	link, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/ns/net")
	if err != nil {
		return 0
	}
	// The link reads "net:[4026531840]".
	s, ok := strings.CutPrefix(link, "net:[")
	if !ok {
		return 0
	}
	ino, err := strconv.ParseUint(strings.TrimSuffix(s, "]"), 10, 64)
	if err != nil {
		return 0
	}
	return ino
}

// waitGone waits until every victim has exited or d has passed, and
// reports whether all did. A pidfd polls readable once its process exits.
func waitGone(ctx context.Context, victims []*victim, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		var fds []unix.PollFd
		var idx []*victim
		for _, v := range victims {
			if !v.gone {
				fds = append(fds, unix.PollFd{Fd: int32(v.fd), Events: unix.POLLIN})
				idx = append(idx, v)
			}
		}
		if len(fds) == 0 {
			return true
		}
		left := time.Until(deadline)
		if left <= 0 || ctx.Err() != nil {
			return false
		}
		if left > 50*time.Millisecond {
			left = 50 * time.Millisecond // wake up to notice ctx
		}
		n, err := unix.Poll(fds, int(left.Milliseconds())+1)
		if err != nil && !errors.Is(err, unix.EINTR) {
			return false
		}
		if n > 0 {
			for i, f := range fds {
				if f.Revents != 0 {
					idx[i].gone = true
				}
			}
		}
	}
}
