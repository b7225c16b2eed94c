package server

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"syscall"
	"time"

	"go.uber.org/zap"
	"golang.org/x/sys/unix"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/peerlab/peerlab/lab"
	pb "github.com/peerlab/peerlab/proto/peerlab/v1"
)

// adopt takes over the lab hosts an earlier serve on this state folder
// started and left running (it was SIGKILLed, or stopped with --keep-labs):
// a lab whose state file names a socket in the manager's folder and whose
// owner is verified alive (lab.LabState.VerifyOwner) and answers GetLab is
// listed again and can be driven and deleted. Serve-started labs whose
// host is gone are cleaned.
func (m *Manager) adopt() {
	states, err := lab.ListStates(m.opts.StateDir)
	if err != nil {
		m.log.Warn("look for labs to adopt", zap.Error(err))
		return
	}
	dir, _ := filepath.Abs(m.dir)
	for _, st := range states {
		if filepath.Dir(st.Socket) != dir {
			continue // a lab of `peerlab up`, not ours
		}
		h, err := m.adoptOne(st)
		if err != nil {
			m.log.Warn("lab host left by an earlier serve not adopted", zap.String("lab", st.Name), zap.Error(err))
			if errors.Is(err, lab.ErrOwnerUnverified) {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				if _, cerr := lab.Clean(ctx, m.opts.StateDir, st.Name, false, m.log); cerr != nil {
					m.log.Warn("clean what a dead lab host left", zap.String("lab", st.Name), zap.Error(cerr))
				}
				cancel()
			}
			continue
		}
		m.labs[h.name] = h
		m.log.Info("adopted a lab host left by an earlier serve", zap.String("lab", h.name), zap.Int("pid", h.pid))
	}
}

// adoptOne connects to one running lab host and starts watching its process.
func (m *Manager) adoptOne(st lab.LabState) (*hostedLab, error) {
	if err := st.VerifyOwner(); err != nil {
		return nil, err
	}
	pidfd, err := unix.PidfdOpen(st.PID, 0)
	if err != nil {
		return nil, fmt.Errorf("pidfd of %d: %w", st.PID, err)
	}
	// Verified again with the pidfd held: the pidfd now refers to the
	// owner and cannot be moved to another process.
	if err := st.VerifyOwner(); err != nil {
		unix.Close(pidfd)
		return nil, err
	}
	conn, err := grpc.NewClient("unix://"+st.Socket, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxMessageSize), grpc.MaxCallSendMsgSize(MaxMessageSize)))
	if err != nil {
		unix.Close(pidfd)
		return nil, fmt.Errorf("connect to %s: %w", st.Socket, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := pb.NewLabServiceClient(conn).GetLab(ctx, &pb.GetLabRequest{Name: st.Name})
	if err != nil {
		conn.Close()
		unix.Close(pidfd)
		return nil, fmt.Errorf("lab host %d does not answer on %s: %w", st.PID, st.Socket, err)
	}
	l := resp.GetLab()
	h := &hostedLab{name: st.Name, mode: l.GetMode(), port: l.GetPort(), started: st.Started,
		logPath: lab.HostLog(m.opts.StateDir, st.Name), stderrPath: lab.HostStderr(m.opts.StateDir, st.Name),
		conn: conn, pid: st.PID,
		exited: make(chan struct{}), state: pb.LabState_LAB_STATE_RUNNING,
		signal: func(sig syscall.Signal) error { return unix.PidfdSendSignal(pidfd, sig, nil, 0) }}
	go m.watchAdopted(h, pidfd)
	return h, nil
}

// watchAdopted waits for an adopted host to exit (its pidfd turns
// readable), or for the manager to shut down. Not its parent, the manager
// cannot read the exit status: a host that removed its state file ended
// cleanly.
func (m *Manager) watchAdopted(h *hostedLab, pidfd int) {
	defer unix.Close(pidfd)
	for {
		select {
		case <-m.quit:
			return
		default:
		}
		fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, 500)
		if errors.Is(err, unix.EINTR) || (err == nil && n == 0) {
			continue
		}
		break
	}
	_, err := lab.ReadState(m.opts.StateDir, h.name)
	clean := errors.Is(err, lab.ErrLabNotFound)
	reason := "exit status unknown (adopted from an earlier serve)"
	if clean {
		reason = "its lab was taken down"
	}
	m.hostEnded(h, clean, reason)
}
