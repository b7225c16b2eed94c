package server

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/peerlab/peerlab/lab"
	pb "github.com/peerlab/peerlab/proto/peerlab/v1"
)

// ManagerOptions tune a Manager.
type ManagerOptions struct {
	// Logger receives logs; nil means none.
	Logger *zap.Logger
	// StateDir is the labs' state folder; "" means lab.DefaultStateDir().
	// The manager keeps its own files (topologies, host logs and sockets)
	// in StateDir/serve.
	StateDir string
	// HostLog bounds the log each lab host writes; the zero value means
	// DefaultHostLogLimits.
	HostLog HostLogLimits
	// HostCommand builds the command of a lab host process from its
	// arguments (`lab-host --topology … --socket …`); nil runs this very
	// program (which must be peerlab) with them.
	HostCommand func(args []string) *exec.Cmd
	// StartTimeout bounds CreateLab; 0 means 2 minutes.
	StartTimeout time.Duration
	// TopologyDirs are the folders from which callers other than the
	// server's own user on the Unix socket may name files (CreateLab's
	// path, a topology's mrt: dumps); none by default (topology_source.go).
	TopologyDirs []string
}

// Manager is the LabService of `peerlab serve`: a registry of labs, each
// run by its own host process, and the proxy of every per-lab call to it.
type Manager struct {
	pb.UnimplementedLabServiceServer
	opts ManagerOptions
	log  *zap.Logger
	dir  string

	mu   sync.Mutex
	labs map[string]*hostedLab
	// quit is closed by Shutdown: watchers of adopted hosts stop.
	quit     chan struct{}
	quitOnce sync.Once
}

// hostedLab is one lab and its host process.
type hostedLab struct {
	name    string
	mode    pb.LabMode
	port    int32
	started time.Time
	logPath string
	// stderrPath holds what the host writes outside its log (a panic).
	stderrPath string
	conn       *grpc.ClientConn
	pid        int
	exited     chan struct{} // closed when the host process is gone
	// signal signals the host process (through its pidfd for an adopted
	// host); nil means kill(pid).
	signal func(syscall.Signal) error

	mu      sync.Mutex
	state   pb.LabState
	failure string
}

// snapshot describes the lab as the manager knows it.
func (h *hostedLab) snapshot() *pb.Lab {
	h.mu.Lock()
	defer h.mu.Unlock()
	return &pb.Lab{Name: h.name, State: h.state, Mode: h.mode, Failure: h.failure, HostPid: int32(h.pid), Port: h.port}
}

// kill signals the host process.
func (h *hostedLab) kill(sig syscall.Signal) error {
	if h.signal != nil {
		return h.signal(sig)
	}
	return syscall.Kill(h.pid, sig)
}

// current returns the state and failure.
func (h *hostedLab) current() (pb.LabState, string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.state, h.failure
}

// NewManager returns a manager with no labs.
func NewManager(opts ManagerOptions) (*Manager, error) {
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	if opts.StateDir == "" {
		opts.StateDir = lab.DefaultStateDir()
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 2 * time.Minute
	}
	if opts.HostLog.MaxSize == 0 {
		opts.HostLog = DefaultHostLogLimits
	}
	if err := opts.HostLog.check(); err != nil {
		return nil, err
	}
	if opts.HostCommand == nil {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("find the peerlab executable: %w", err)
		}
		opts.HostCommand = func(args []string) *exec.Cmd { return exec.Command(exe, args...) }
	}
	if err := lab.PrepareStateDir(opts.StateDir); err != nil {
		return nil, err
	}
	dir := lab.ServeDir(opts.StateDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	m := &Manager{opts: opts, log: opts.Logger, dir: dir, labs: map[string]*hostedLab{}, quit: make(chan struct{})}
	m.adopt()
	return m, nil
}

// Register adds the manager's services (lab, speaker, fault, capture,
// diagnosis) to s.
func (m *Manager) Register(s *grpc.Server) {
	pb.RegisterLabServiceServer(s, m)
	pb.RegisterSpeakerServiceServer(s, &speakerProxy{m: m})
	pb.RegisterFaultServiceServer(s, &faultProxy{m: m})
	pb.RegisterCaptureServiceServer(s, &captureProxy{m: m})
	pb.RegisterDiagnosisServiceServer(s, &Diagnosis{StateDir: m.opts.StateDir})
}

// CreateLab starts a host process for the topology and waits until the
// lab is up.
func (m *Manager) CreateLab(ctx context.Context, req *pb.CreateLabRequest) (*pb.CreateLabResponse, error) {
	topo, data, err := m.loadTopology(ctx, req)
	if err != nil {
		return nil, err
	}
	name := topo.Name
	h := &hostedLab{name: name, mode: req.GetMode(), port: req.GetPort(), state: pb.LabState_LAB_STATE_STARTING,
		started: time.Now(), exited: make(chan struct{}),
		logPath: lab.HostLog(m.opts.StateDir, name), stderrPath: lab.HostStderr(m.opts.StateDir, name)}
	if h.port == 0 {
		h.port = lab.DefaultPort
	}
	m.mu.Lock()
	if _, ok := m.labs[name]; ok {
		m.mu.Unlock()
		return nil, status.Errorf(codes.AlreadyExists, "lab %s: %v", name, lab.ErrLabExists)
	}
	m.labs[name] = h
	m.mu.Unlock()
	if err := m.start(ctx, h, data, req); err != nil {
		m.mu.Lock()
		delete(m.labs, name)
		m.mu.Unlock()
		return nil, err
	}
	resp, err := pb.NewLabServiceClient(h.conn).GetLab(ctx, &pb.GetLabRequest{Name: name})
	if err != nil {
		return &pb.CreateLabResponse{Lab: h.snapshot()}, nil
	}
	m.decorate(h, resp.GetLab())
	return &pb.CreateLabResponse{Lab: resp.GetLab()}, nil
}

// start runs the host process and waits for its word.
func (m *Manager) start(ctx context.Context, h *hostedLab, data []byte, req *pb.CreateLabRequest) error {
	topoFile := filepath.Join(m.dir, h.name+".yaml")
	_ = os.Remove(topoFile) // a file of an older run keeps its mode otherwise
	if err := os.WriteFile(topoFile, data, 0o600); err != nil {
		return status.Errorf(codes.Internal, "write topology: %v", err)
	}
	socket := filepath.Join(m.dir, h.name+".sock")
	args := []string{"lab-host", "--topology", topoFile, "--socket", socket,
		"--state-dir", m.opts.StateDir, "--port", fmt.Sprint(h.port), "--log-format", "json", "--log-level", "info"}
	args = append(args, m.opts.HostLog.args(h.logPath)...)
	if mode := modeFromProto(req.GetMode()); mode != lab.ModeAuto {
		args = append(args, "--mode", string(mode))
	}
	if req.GetCapture() {
		args = append(args, "--capture", filepath.Join(m.dir, h.name+"-capture"))
	}
	// The host writes its own rotated log (it outlives a killed serve);
	// its standard output and error, where a panic lands, go to a file.
	stderrFile, err := ResetHostFiles(h.logPath, h.stderrPath)
	if err != nil {
		return status.Errorf(codes.Internal, "lab %s: %v", h.name, err)
	}
	defer stderrFile.Close()
	pr, pw, err := os.Pipe()
	if err != nil {
		return status.Errorf(codes.Internal, "readiness pipe: %v", err)
	}
	defer pr.Close()
	cmd := m.opts.HostCommand(args)
	cmd.Stdout, cmd.Stderr = stderrFile, stderrFile
	cmd.ExtraFiles = []*os.File{pw} // fd 3
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		pw.Close()
		return status.Errorf(codes.Internal, "start lab host: %v", err)
	}
	pw.Close()
	h.pid = cmd.Process.Pid
	go m.reap(h, cmd)

	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(pr).ReadString('\n')
		line <- strings.TrimSpace(l)
	}()
	timer := time.NewTimer(m.opts.StartTimeout)
	defer timer.Stop()
	var word string
	select {
	case word = <-line:
	case <-ctx.Done():
		_ = cmd.Process.Signal(syscall.SIGTERM)
		return status.FromContextError(ctx.Err()).Err()
	case <-timer.C:
		_ = cmd.Process.Signal(syscall.SIGTERM)
		return status.Errorf(codes.DeadlineExceeded, "lab %s: not up after %s", h.name, m.opts.StartTimeout)
	}
	if rest, ok := strings.CutPrefix(word, "error "); ok {
		<-h.exited
		codeName, msg, _ := strings.Cut(rest, " ")
		return status.Error(codeFromName(codeName), msg)
	}
	if word != "ready" {
		<-h.exited
		_, failure := h.current()
		return status.Errorf(codes.Internal, "lab %s: host process ended before the lab was up: %s", h.name, failure)
	}
	conn, err := grpc.NewClient("unix://"+socket, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxMessageSize), grpc.MaxCallSendMsgSize(MaxMessageSize)))
	if err != nil {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		return status.Errorf(codes.Internal, "connect to lab host: %v", err)
	}
	h.mu.Lock()
	h.conn = conn
	if h.state == pb.LabState_LAB_STATE_STARTING {
		h.state = pb.LabState_LAB_STATE_RUNNING
	}
	h.mu.Unlock()
	return nil
}

// codeFromName maps a gRPC code name back to the code.
func codeFromName(name string) codes.Code {
	for c := codes.OK; c <= codes.Unauthenticated; c++ {
		if c.String() == name {
			return c
		}
	}
	return codes.Internal
}

// reap waits for a host process to end and settles the lab (hostEnded).
func (m *Manager) reap(h *hostedLab, cmd *exec.Cmd) {
	err := cmd.Wait()
	m.hostEnded(h, err == nil, exitReason(err))
}

// hostEnded settles a lab whose host process ended: a lab whose host
// exited cleanly without the manager asking was taken down by another
// client and is forgotten; any other lab not being deleted is then FAILED,
// with how the host ended and the end of its log, and what it left
// (namespaces, processes) is cleaned.
func (m *Manager) hostEnded(h *hostedLab, clean bool, reason string) {
	h.mu.Lock()
	stopping := h.state == pb.LabState_LAB_STATE_STOPPING
	// A host that ends cleanly on its own was asked to by someone else
	// (`peerlab down NAME` on the lab's own socket): the lab is gone, not
	// failed, and the manager forgets it.
	downElsewhere := !stopping && clean && h.state == pb.LabState_LAB_STATE_RUNNING
	if downElsewhere {
		h.state = pb.LabState_LAB_STATE_STOPPING
		h.mu.Unlock()
		close(h.exited)
		m.log.Info("lab taken down through its own socket", zap.String("lab", h.name))
		m.mu.Lock()
		if m.labs[h.name] == h {
			delete(m.labs, h.name)
		}
		m.mu.Unlock()
		if h.conn != nil {
			h.conn.Close()
		}
		m.removeFiles(h)
		return
	}
	if !stopping {
		h.state = pb.LabState_LAB_STATE_FAILED
		h.failure = fmt.Sprintf("lab host process %d exited: %s; %s", h.pid, reason, HostEndNote(h.stderrPath, h.logPath, 600))
	}
	h.mu.Unlock()
	close(h.exited)
	if !stopping {
		m.log.Warn("lab host died", zap.String("lab", h.name), zap.String("reason", reason))
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, cerr := lab.Clean(ctx, m.opts.StateDir, h.name, false, m.log); cerr != nil {
			m.log.Warn("clean after host death", zap.String("lab", h.name), zap.Error(cerr))
		}
	}
}

// exitReason describes how a process ended.
func exitReason(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// lookup finds a lab by name.
func (m *Manager) lookup(name string) (*hostedLab, error) {
	if err := required("name", name); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	h, ok := m.labs[name]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "lab %q: %v", name, lab.ErrLabNotFound)
	}
	return h, nil
}

// conn returns the connection to a running lab's host.
func (m *Manager) conn(name string) (*grpc.ClientConn, error) {
	h, err := m.lookup(name)
	if err != nil {
		return nil, err
	}
	state, failure := h.current()
	switch state {
	case pb.LabState_LAB_STATE_RUNNING:
		return h.conn, nil
	case pb.LabState_LAB_STATE_FAILED:
		return nil, status.Errorf(codes.FailedPrecondition, "lab %s failed: %s", name, failure)
	}
	return nil, status.Errorf(codes.Unavailable, "lab %s is %s", name, state)
}

// decorate sets what the manager knows better than the host.
func (m *Manager) decorate(h *hostedLab, l *pb.Lab) {
	own := h.snapshot()
	l.State, l.Failure, l.HostPid = own.State, own.Failure, own.HostPid
}

// GetLab returns the lab: from its host while it runs.
func (m *Manager) GetLab(ctx context.Context, req *pb.GetLabRequest) (*pb.GetLabResponse, error) {
	h, err := m.lookup(req.GetName())
	if err != nil {
		return nil, err
	}
	if state, _ := h.current(); state == pb.LabState_LAB_STATE_RUNNING {
		resp, err := pb.NewLabServiceClient(h.conn).GetLab(ctx, req)
		if err == nil {
			m.decorate(h, resp.GetLab())
			return resp, nil
		}
		if state, _ := h.current(); state == pb.LabState_LAB_STATE_RUNNING {
			return nil, err
		}
	}
	return &pb.GetLabResponse{Lab: h.snapshot()}, nil
}

// ListLabs lists the labs by name, without asking their hosts.
func (m *Manager) ListLabs(_ context.Context, _ *pb.ListLabsRequest) (*pb.ListLabsResponse, error) {
	m.mu.Lock()
	hs := make([]*hostedLab, 0, len(m.labs))
	for _, h := range m.labs {
		hs = append(hs, h)
	}
	m.mu.Unlock()
	sort.Slice(hs, func(i, j int) bool { return hs[i].name < hs[j].name })
	out := &pb.ListLabsResponse{}
	for _, h := range hs {
		out.Labs = append(out.Labs, h.snapshot())
	}
	return out, nil
}

// DeleteLab tears a lab down (a failed lab is only forgotten).
func (m *Manager) DeleteLab(ctx context.Context, req *pb.DeleteLabRequest) (*pb.DeleteLabResponse, error) {
	h, err := m.lookup(req.GetName())
	if err != nil {
		return nil, err
	}
	if err := m.stop(ctx, h); err != nil {
		return nil, err
	}
	m.mu.Lock()
	if m.labs[h.name] == h {
		delete(m.labs, h.name)
	}
	m.mu.Unlock()
	return &pb.DeleteLabResponse{}, nil
}

// stop asks a lab's host to tear the lab down and waits for it to exit
// (SIGTERM, then SIGKILL, when it does not).
func (m *Manager) stop(ctx context.Context, h *hostedLab) error {
	h.mu.Lock()
	running := h.state == pb.LabState_LAB_STATE_RUNNING
	if running {
		h.state = pb.LabState_LAB_STATE_STOPPING
	}
	h.mu.Unlock()
	if running {
		dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := pb.NewLabServiceClient(h.conn).DeleteLab(dctx, &pb.DeleteLabRequest{Name: h.name})
		cancel()
		if err != nil {
			m.log.Warn("delete on lab host", zap.String("lab", h.name), zap.Error(err))
			_ = h.kill(syscall.SIGTERM)
		}
		select {
		case <-h.exited:
		case <-time.After(60 * time.Second):
			_ = h.kill(syscall.SIGKILL)
			<-h.exited
		}
	}
	if h.conn != nil {
		_ = h.conn.Close()
	}
	m.removeFiles(h)
	return nil
}

// removeFiles removes the topology copy, log and socket the manager kept
// for a lab that is gone (a failed lab keeps them until it is deleted:
// its log says why it failed).
func (m *Manager) removeFiles(h *hostedLab) {
	if err := lab.RemoveServeFiles(m.opts.StateDir, h.name); err != nil {
		m.log.Warn("remove lab files", zap.String("lab", h.name), zap.Error(err))
	}
}

// Shutdown tears every lab down, or with keep leaves them running
// (their hosts outlive the server, reachable by their sockets).
func (m *Manager) Shutdown(ctx context.Context, keep bool) {
	m.mu.Lock()
	hs := make([]*hostedLab, 0, len(m.labs))
	for _, h := range m.labs {
		hs = append(hs, h)
	}
	m.labs = map[string]*hostedLab{}
	m.mu.Unlock()
	var wg sync.WaitGroup
	for _, h := range hs {
		if keep {
			if h.conn != nil {
				_ = h.conn.Close()
			}
			continue
		}
		wg.Add(1)
		go func() { defer wg.Done(); _ = m.stop(ctx, h) }()
	}
	wg.Wait()
	m.quitOnce.Do(func() { close(m.quit) })
}

// WatchLab forwards the host's event stream and, when the host dies,
// ends it with a LabStateChange to FAILED.
func (m *Manager) WatchLab(req *pb.WatchLabRequest, stream grpc.ServerStreamingServer[pb.WatchLabResponse]) error {
	h, err := m.lookup(req.GetName())
	if err != nil {
		return err
	}
	conn, err := m.conn(req.GetName())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(stream.Context())
	defer cancel()
	up, err := pb.NewLabServiceClient(conn).WatchLab(ctx, req)
	if err != nil {
		return err
	}
	for {
		ev, err := up.Recv()
		if err != nil {
			if stream.Context().Err() != nil {
				return nil
			}
			select {
			case <-h.exited:
			case <-time.After(2 * time.Second):
			}
			if state, failure := h.current(); state == pb.LabState_LAB_STATE_FAILED {
				return stream.Send(&pb.WatchLabResponse{Event: &pb.WatchLabResponse_State{
					State: &pb.LabStateChange{State: state, Failure: failure}}})
			}
			return err
		}
		if err := stream.Send(ev); err != nil {
			return err
		}
	}
}
