package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"

	"github.com/peerlab/peerlab/client"
	"github.com/peerlab/peerlab/lab"
	"github.com/peerlab/peerlab/lab/livediag"
	"github.com/peerlab/peerlab/lab/topology"
	pb "github.com/peerlab/peerlab/proto/peerlab/v1"
	"github.com/peerlab/peerlab/server"
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
process owns it: its sessions may still be coming up. --wait waits until
the topology's expectations are decided (or, without any, until every
session is Established; at most --timeout) and prints them; exit status 1
when one fails (the lab stays up). Other commands reach the running lab by
its name: 'peerlab status', 'fault', 'exec', 'down'.`,
		Example: `  peerlab up -d --wait topologies/calico-mesh.yaml
  peerlab status calico-mesh
  peerlab down calico-mesh`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return a.up(cmd, args[0]) },
	}
	f := cmd.Flags()
	f.BoolP("detach", "d", false, "return once the lab is up; a background process keeps it")
	f.Bool("detached-child", false, "internal: run as the background owner of a detached lab")
	_ = f.MarkHidden("detached-child")
	f.Bool("wait", false, "wait until the topology's expectations are decided (without any: every session Established) and print them")
	f.Duration("timeout", 2*time.Minute, "with --wait: give up waiting after this long")
	f.Int64("log-file-max-size", server.DefaultHostLogLimits.MaxSize, "with -d: bytes the owner's log (<state-dir>/logs/NAME.log) may hold before it is rotated")
	f.Int("log-file-keep", server.DefaultHostLogLimits.Keep, "with -d: rotated owner log files kept (NAME.log.1 …; 0: none)")
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
	topo, err := loadTopologyArg(file, a.stateDir())
	if err != nil {
		return usageErrorf("%v", err)
	}
	file = topo.Source
	if a.v.GetBool("detach") && !a.v.GetBool("detached-child") {
		return a.detach(cmd, topo)
	}
	var ready io.WriteCloser
	if a.v.GetBool("detached-child") {
		ready = os.NewFile(readyFD, "ready")
		// The owner writes its own log, rotated: a detached lab may run
		// for weeks. Its standard error (lab.OwnerStderr) holds a panic.
		closeLog, err := a.logToFile(lab.OwnerLog(a.stateDir(), topo.Name),
			a.v.GetInt64("log-file-max-size"), a.v.GetInt("log-file-keep"))
		if err != nil {
			fmt.Fprintf(ready, "error %s\n", strings.ReplaceAll(err.Error(), "\n", "; "))
			ready.Close()
			return err
		}
		defer closeLog()
	}
	err = a.own(cmd, topo, file, ready)
	if err != nil && ready != nil {
		fmt.Fprintf(ready, "error %s\n", strings.ReplaceAll(err.Error(), "\n", "; "))
		ready.Close()
	}
	return err
}

// own brings the lab up and owns it through server.RunHost: the lab's
// gRPC services on its control socket (<state>/labs/NAME/control.sock),
// its published state file, tear-down at the end. ready, when not nil, is
// told once the lab is up.
func (a *app) own(cmd *cobra.Command, topo *topology.Topology, file string, ready io.WriteCloser) error {
	stateDir := a.stateDir()
	socket := filepath.Join(lab.LabDir(stateDir, topo.Name), "control.sock")
	prog := a.newProgress(cmd)
	return server.RunHost(cmd.Context(), server.HostConfig{
		TopologyFile: file, Socket: socket, StateDir: stateDir, Port: a.v.GetInt("port"),
		Mode: lab.Mode(a.v.GetString("mode")), CaptureDir: a.v.GetString("capture"), Logger: a.log,
		TestHooks: os.Getenv(testHooksEnv) == "1",
		NodeStarted: func(started, total int) {
			if ready != nil {
				// The parent of a detached lab shows it.
				fmt.Fprintf(ready, "progress %d %d\n", started, total)
				return
			}
			prog.Printf("lab %s: %d of %d nodes started", topo.Name, started, total)
		},
		OnReady: func(l *lab.Lab) {
			prog.Done()
			wait := a.v.GetBool("wait")
			if ready != nil {
				fmt.Fprintf(ready, "ready %s %s\n", l.Mode(), socket)
				if !wait {
					ready.Close()
					return
				}
				// Settle in the background: the host must keep serving
				// (status, down) while the parent waits for this line.
				go func() {
					defer ready.Close()
					data, _ := json.Marshal(a.settle(cmd.Context(), l))
					fmt.Fprintf(ready, "settled %s\n", data)
				}()
				return
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "lab %s up (%s mode, %d nodes, %d sessions); Ctrl-C or 'peerlab down %s' ends it\n",
				topo.Name, l.Mode(), len(topo.Nodes), len(topo.Sessions), topo.Name)
			if files := l.CaptureFiles(); len(files) > 0 {
				fmt.Fprintf(w, "capturing to %s\n", strings.Join(files, " "))
			}
			if wait {
				a.printWaiting(w, topo)
				go func() { _ = printSettled(w, a.settle(cmd.Context(), l)) }()
			}
		},
	})
}

// detach starts a background owner for the lab and waits until it reports
// the lab up, or the error that stopped it.
func (a *app) detach(cmd *cobra.Command, topo *topology.Topology) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the peerlab executable: %w", err)
	}
	maxSize, keep := a.v.GetInt64("log-file-max-size"), a.v.GetInt("log-file-keep")
	if maxSize <= 0 {
		return usageErrorf("peerlab up: --log-file-max-size %d: must be positive (bytes)", maxSize)
	}
	if keep < 0 {
		return usageErrorf("peerlab up: --log-file-keep %d: must not be negative", keep)
	}
	logPath, stderrPath := lab.OwnerLog(a.stateDir(), topo.Name), lab.OwnerStderr(a.stateDir(), topo.Name)
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return fmt.Errorf("create log folder: %w", err)
	}
	// A running lab of this name keeps its owner and the owner's log.
	if st, err := lab.ReadState(a.stateDir(), topo.Name); err == nil && st.PID > 0 && syscall.Kill(st.PID, 0) == nil {
		return fmt.Errorf("bring lab %s up: lab %s: %w (owner pid %d)", topo.Name, topo.Name, lab.ErrLabExists, st.PID)
	}
	// The owner writes its own rotated log (as serve's lab hosts do); its
	// standard output and error, where a panic lands, go to a file it
	// empties at each rotation once that file is larger than the cap.
	stderrFile, err := server.ResetHostFiles(logPath, stderrPath)
	if err != nil {
		return fmt.Errorf("lab %s: %w", topo.Name, err)
	}
	defer stderrFile.Close()
	pr, pw, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("create readiness pipe: %w", err)
	}
	defer pr.Close()
	args := []string{"up", topo.Source, "--detached-child",
		"--state-dir", a.stateDir(), "--port", fmt.Sprint(a.v.GetInt("port")),
		"--log-level", a.v.GetString("log-level"), "--log-format", "json",
		"--log-file-max-size", fmt.Sprint(maxSize), "--log-file-keep", fmt.Sprint(keep)}
	if m := a.v.GetString("mode"); m != "" {
		args = append(args, "--mode", m)
	}
	if a.v.GetBool("wait") {
		args = append(args, "--wait", "--timeout", a.v.GetDuration("timeout").String())
	}
	if d := a.v.GetString("capture"); d != "" {
		abs, err := filepath.Abs(d)
		if err != nil {
			return fmt.Errorf("--capture %s: %w", d, err)
		}
		args = append(args, "--capture", abs)
	}
	child := exec.Command(exe, args...)
	child.Stdout, child.Stderr = stderrFile, stderrFile
	child.ExtraFiles = []*os.File{pw} // fd 3 in the child
	child.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := child.Start(); err != nil {
		pw.Close()
		return fmt.Errorf("start the lab owner: %w", err)
	}
	pw.Close()
	_ = child.Process.Release()

	rd := bufio.NewReader(pr)
	prog := a.newProgress(cmd)
	var line string
	for {
		line, err = rd.ReadString('\n')
		if err != nil && line == "" {
			prog.Done()
			return fmt.Errorf("lab %s: the owner exited before the lab was up; %s", topo.Name, server.HostEndNote(stderrPath, logPath, 600))
		}
		line = strings.TrimSpace(line)
		var started, total int
		if n, _ := fmt.Sscanf(line, "progress %d %d", &started, &total); n == 2 {
			prog.Printf("lab %s: %d of %d nodes started", topo.Name, started, total)
			continue
		}
		break
	}
	prog.Done()
	if msg, ok := strings.CutPrefix(line, "error "); ok {
		return errors.New(msg)
	}
	fields := strings.Fields(line)
	if len(fields) < 2 || fields[0] != "ready" {
		return fmt.Errorf("lab %s: unexpected word from the owner %q; see %s", topo.Name, line, logPath)
	}
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "lab %s up (%s mode, %d nodes, %d sessions); log %s\n",
		topo.Name, fields[1], len(topo.Nodes), len(topo.Sessions), logPath)
	if d := a.v.GetString("capture"); d != "" {
		if abs, err := filepath.Abs(d); err == nil {
			d = abs
		}
		fmt.Fprintf(w, "capturing to %s (files complete once the lab is down)\n", d)
	}
	if !a.v.GetBool("wait") {
		fmt.Fprintf(w, "sessions may still be coming up: 'peerlab status %s' shows them ('up --wait' waits for them)\n", topo.Name)
		return nil
	}
	a.printWaiting(w, topo)
	line, err = rd.ReadString('\n')
	data, ok := strings.CutPrefix(strings.TrimSpace(line), "settled ")
	var results []lab.ExpectationResult
	if !ok || json.Unmarshal([]byte(data), &results) != nil {
		return fmt.Errorf("lab %s: the owner stopped before the lab settled; %s", topo.Name, server.HostEndNote(stderrPath, logPath, 600))
	}
	return printSettled(w, results)
}

// settle waits, at most --timeout, until the lab has settled (lab.Settle).
func (a *app) settle(ctx context.Context, l *lab.Lab) []lab.ExpectationResult {
	ctx, cancel := context.WithTimeout(ctx, a.v.GetDuration("timeout"))
	defer cancel()
	return l.Settle(ctx, lab.CheckOptions{Diagnoser: livediag.New(a.stateDir())})
}

// printWaiting says what up --wait waits for and how to watch meanwhile.
func (a *app) printWaiting(w io.Writer, topo *topology.Topology) {
	what := fmt.Sprintf("its %d expectation(s)", len(topo.Expectations))
	if len(topo.Expectations) == 0 {
		what = "every session to be Established"
	}
	fmt.Fprintf(w, "waiting for %s (at most %s; 'peerlab status %s' in another terminal shows the sessions)\n",
		what, a.v.GetDuration("timeout"), topo.Name)
}

// printSettled prints what up --wait waited for; a failed expectation is
// exit status 1 (the lab stays up).
func printSettled(w io.Writer, results []lab.ExpectationResult) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RESULT\tEXPECTATION\tDETAIL")
	ok := true
	for _, r := range results {
		mark := "PASS"
		if !r.OK {
			mark, ok = "FAIL", false
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", mark, r.Description, r.Detail)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	if !ok {
		fmt.Fprintln(w, "some expectations failed; the lab stays up")
		return &exitError{code: exitFailed}
	}
	fmt.Fprintln(w, "the lab has settled")
	return nil
}

// dialLab connects to a running lab's control socket: the gRPC API its
// owner serves, whether `peerlab up` or `peerlab serve` started it.
func (a *app) dialLab(ctx context.Context, name string) (*labConn, lab.LabState, error) {
	st, err := lab.ReadState(a.stateDir(), name)
	if err != nil {
		return nil, st, err
	}
	c, err := client.NewUnix(st.Socket)
	if err != nil {
		return nil, st, fmt.Errorf("lab %s is not answering (owner pid %d): %w", name, st.PID, err)
	}
	// grpc connects lazily: ask for the lab now, so that a dead owner is
	// reported here and not by the call that follows.
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := c.Labs.GetLab(pctx, &pb.GetLabRequest{Name: name}, grpc.WaitForReady(true)); err != nil {
		c.Close()
		return nil, st, fmt.Errorf("lab %s is not answering (owner pid %d): %s", name, st.PID, rpcMessage(err))
	}
	return &labConn{c: c, name: name}, st, nil
}

// labConn is the CLI's connection to one running lab's control socket.
type labConn struct {
	c    *client.Client
	name string
}

// Close closes the connection.
func (l *labConn) Close() error { return l.c.Close() }

// Status returns the lab's report: sessions, timeline, faults, readiness.
func (l *labConn) Status(ctx context.Context) (lab.Report, error) {
	r, err := server.GetReport(ctx, l.c.Conn(), l.name)
	if err != nil {
		return r, errors.New(rpcMessage(err))
	}
	return r, nil
}

// Inject applies a fault now.
func (l *labConn) Inject(ctx context.Context, f *pb.Fault) error {
	if _, err := l.c.Faults.InjectFault(ctx, &pb.InjectFaultRequest{Lab: l.name, Fault: f}); err != nil {
		return errors.New(rpcMessage(err))
	}
	return nil
}

// Heal undoes a fault.
func (l *labConn) Heal(ctx context.Context, f *pb.Fault) error {
	if _, err := l.c.Faults.HealFault(ctx, &pb.HealFaultRequest{Lab: l.name, Fault: f}); err != nil {
		return errors.New(rpcMessage(err))
	}
	return nil
}

// Down asks the owner to tear the lab down; the owner exits once it is.
func (l *labConn) Down(ctx context.Context) error {
	if _, err := l.c.Labs.DeleteLab(ctx, &pb.DeleteLabRequest{Name: l.name}); err != nil {
		return errors.New(rpcMessage(err))
	}
	return nil
}

// rpcMessage is a gRPC error's message without the "rpc error: code = …"
// wrapping, as the CLI shows it.
func rpcMessage(err error) string {
	if s, ok := status.FromError(err); ok {
		return s.Message()
	}
	return err.Error()
}
