package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/peerlab/peerlab/lab"
	"github.com/peerlab/peerlab/lab/control"
	"github.com/peerlab/peerlab/lab/topology"
)

// readyFD is the file descriptor on which a detached `up` child reports
// "ready" or the error that stopped it.
const readyFD = 3

// newUpCommand brings a lab up and keeps it running.
func newUpCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "up FILE",
		Short: "Bring a lab up and keep it running (-d: in the background)",
		Long: `up brings the topology up and keeps it running until Ctrl-C, SIGTERM or
'peerlab down NAME'. With -d it returns once the lab is up and a background
process owns it. Other commands reach the running lab by its name:
'peerlab status', 'fault', 'exec', 'down'.`,
		Example: `  peerlab up -d topologies/calico-mesh.yaml
  peerlab status calico-mesh
  peerlab down calico-mesh`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return a.up(cmd, args[0]) },
	}
	f := cmd.Flags()
	f.BoolP("detach", "d", false, "return once the lab is up; a background process keeps it")
	f.Bool("detached-child", false, "internal: run as the background owner of a detached lab")
	_ = f.MarkHidden("detached-child")
	addLabFlags(cmd)
	return cmd
}

// addLabFlags adds the flags that say where and how labs run.
func addLabFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.Int("port", lab.DefaultPort, "BGP port every loopback node listens on")
	f.String("state-dir", "", "folder for lab state (default /run/peerlab as root, else per user)")
	f.String("mode", "", "where nodes run: loopback (no root) or namespace (root); default: namespace when the topology needs it")
	f.String("capture", "", "record every BGP link to pcapng files in this folder (<node>.pcapng; lo.pcapng in loopback mode)")
}

// stateDir is the state folder the flags name.
func (a *app) stateDir() string {
	if d := a.v.GetString("state-dir"); d != "" {
		return d
	}
	return lab.DefaultStateDir()
}

// up carries out `peerlab up`.
func (a *app) up(cmd *cobra.Command, file string) error {
	topo, err := topology.Load(file)
	if err != nil {
		return usageErrorf("%v", err)
	}
	if a.v.GetBool("detach") && !a.v.GetBool("detached-child") {
		return a.detach(cmd, topo)
	}
	var ready io.WriteCloser
	if a.v.GetBool("detached-child") {
		ready = os.NewFile(readyFD, "ready")
	}
	err = a.own(cmd, topo, file, ready)
	if err != nil && ready != nil {
		fmt.Fprintf(ready, "error %s\n", strings.ReplaceAll(err.Error(), "\n", "; "))
		ready.Close()
	}
	return err
}

// own brings the lab up, publishes it, serves its control socket and
// tears it down at the end. ready, when not nil, is told once the lab is up.
func (a *app) own(cmd *cobra.Command, topo *topology.Topology, file string, ready io.WriteCloser) error {
	ctx := cmd.Context()
	stateDir := a.stateDir()
	l, err := lab.Up(ctx, topo, lab.Options{
		Logger: a.log, Port: a.v.GetInt("port"), StateDir: stateDir, Mode: lab.Mode(a.v.GetString("mode")),
		CaptureDir: a.v.GetString("capture"),
	})
	if err != nil {
		return fmt.Errorf("bring lab %s up: %w", topo.Name, err)
	}
	defer func() {
		if derr := l.Down(); derr != nil {
			a.log.Warn("tear down", zap.Error(derr))
		}
	}()
	socket := filepath.Join(l.Dir(), "control.sock")
	ln, err := net.Listen("unix", socket)
	if err != nil {
		return fmt.Errorf("lab %s: listen on control socket: %w", topo.Name, err)
	}
	source, _ := filepath.Abs(file)
	st := lab.LabState{
		Name: topo.Name, Source: source, Mode: l.Mode(), PID: os.Getpid(),
		Socket: socket, Started: l.Started(), Nodes: map[string]string{},
	}
	for _, n := range topo.Nodes {
		st.Nodes[n.Name] = n.Kind
	}
	if err := lab.WriteState(stateDir, st); err != nil {
		ln.Close()
		return err
	}
	serveCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- control.Serve(serveCtx, ln, l, stop, a.log) }()

	if ready != nil {
		fmt.Fprintf(ready, "ready %s %s\n", l.Mode(), socket)
		ready.Close()
	} else {
		fmt.Fprintf(cmd.OutOrStdout(), "lab %s up (%s mode, %d nodes, %d sessions); Ctrl-C or 'peerlab down %s' ends it\n",
			topo.Name, l.Mode(), len(topo.Nodes), len(topo.Sessions), topo.Name)
		if files := l.CaptureFiles(); len(files) > 0 {
			fmt.Fprintf(cmd.OutOrStdout(), "capturing to %s\n", strings.Join(files, " "))
		}
	}
	<-serveCtx.Done()
	a.log.Info("tearing the lab down", zap.String("lab", topo.Name))
	if err := <-done; err != nil {
		a.log.Warn("control socket", zap.Error(err))
	}
	return nil
}

// detach starts a background owner for the lab and waits until it reports
// the lab up, or the error that stopped it.
func (a *app) detach(cmd *cobra.Command, topo *topology.Topology) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the peerlab executable: %w", err)
	}
	logDir := filepath.Join(a.stateDir(), "logs")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return fmt.Errorf("create log folder: %w", err)
	}
	logPath := filepath.Join(logDir, topo.Name+".log")
	// A running lab of this name keeps its owner and the owner's log.
	if st, err := lab.ReadState(a.stateDir(), topo.Name); err == nil && st.PID > 0 && syscall.Kill(st.PID, 0) == nil {
		return fmt.Errorf("bring lab %s up: lab %s: %w (owner pid %d)", topo.Name, topo.Name, lab.ErrLabExists, st.PID)
	}
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("open log %s: %w", logPath, err)
	}
	defer logFile.Close()
	pr, pw, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("create readiness pipe: %w", err)
	}
	defer pr.Close()
	args := []string{"up", cmd.Flags().Arg(0), "--detached-child",
		"--state-dir", a.stateDir(), "--port", fmt.Sprint(a.v.GetInt("port")),
		"--log-level", a.v.GetString("log-level"), "--log-format", "json"}
	if m := a.v.GetString("mode"); m != "" {
		args = append(args, "--mode", m)
	}
	if d := a.v.GetString("capture"); d != "" {
		abs, err := filepath.Abs(d)
		if err != nil {
			return fmt.Errorf("--capture %s: %w", d, err)
		}
		args = append(args, "--capture", abs)
	}
	child := exec.Command(exe, args...)
	child.Stdout, child.Stderr = logFile, logFile
	child.ExtraFiles = []*os.File{pw} // fd 3 in the child
	child.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := child.Start(); err != nil {
		pw.Close()
		return fmt.Errorf("start the lab owner: %w", err)
	}
	pw.Close()
	_ = child.Process.Release()

	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil && line == "" {
		return fmt.Errorf("lab %s: the owner exited before the lab was up; see %s", topo.Name, logPath)
	}
	line = strings.TrimSpace(line)
	if msg, ok := strings.CutPrefix(line, "error "); ok {
		return errors.New(msg)
	}
	fields := strings.Fields(line)
	if len(fields) < 2 || fields[0] != "ready" {
		return fmt.Errorf("lab %s: unexpected word from the owner %q; see %s", topo.Name, line, logPath)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "lab %s up (%s mode, %d nodes, %d sessions); log %s\n",
		topo.Name, fields[1], len(topo.Nodes), len(topo.Sessions), logPath)
	if d := a.v.GetString("capture"); d != "" {
		if abs, err := filepath.Abs(d); err == nil {
			d = abs
		}
		fmt.Fprintf(cmd.OutOrStdout(), "capturing to %s (files complete once the lab is down)\n", d)
	}
	return nil
}

// dialLab connects to a running lab's control socket.
func (a *app) dialLab(ctx context.Context, name string) (*control.Client, lab.LabState, error) {
	st, err := lab.ReadState(a.stateDir(), name)
	if err != nil {
		return nil, st, err
	}
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c, err := control.Dial(dctx, st.Socket)
	if err != nil {
		return nil, st, fmt.Errorf("lab %s is not answering (owner pid %d): %w", name, st.PID, err)
	}
	return c, st, nil
}
