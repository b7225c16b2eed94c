package server

import (
	"context"
	"os"
	"sync"
	"time"

	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/peerlab/peerlab/lab"
	"github.com/peerlab/peerlab/lab/livediag"
	pb "github.com/peerlab/peerlab/proto/peerlab/v1"
)

// TestPanicFault is the fault name that, with HostOptions.TestHooks, makes
// the host process panic in a goroutine of its own (as a GoBGP parser bug
// would): the crash-isolation tests use it.
const TestPanicFault = "test-panic"

// HostOptions tune a Host.
type HostOptions struct {
	// Logger receives logs; nil means none.
	Logger *zap.Logger
	// OnDelete is called when a client asks to delete the lab.
	OnDelete func()
	// Port is the lab's BGP port (reported in Lab.port; captures filter on it).
	Port int
	// TestHooks enables TestPanicFault.
	TestHooks bool
	// StateDir is the labs' state folder, where DiagnoseNode finds the lab.
	StateDir string
	// Captures caps the captures started through the API.
	Captures CaptureLimits
	// WatchInterval is how often watchers look for faults the topology
	// schedules (session events and faults injected through the host wake
	// them at once); 0 means 1 s.
	WatchInterval time.Duration
}

// Host serves one running lab's per-lab services from the process that
// owns the lab.
type Host struct {
	pb.UnimplementedLabServiceServer
	pb.UnimplementedFaultServiceServer

	lab  *lab.Lab
	opts HostOptions
	log  *zap.Logger

	mu sync.Mutex
	// expectations are the verdicts so far, in the order they were
	// decided.
	expectations []lab.ExpectationResult
	// checkWake is closed (and replaced) when a verdict is added.
	checkWake chan struct{}
	// faultWake is closed (and replaced) when a fault is injected or
	// healed through the host, to wake watchers.
	faultWake chan struct{}

	done <-chan struct{} // closed when the lab goes down

	speakers *hostSpeakers
	captures *hostCaptures
}

// NewHost serves l. It starts checking l's expectations at once; cancel
// ctx to stop that.
func NewHost(ctx context.Context, l *lab.Lab, opts HostOptions) *Host {
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	if opts.WatchInterval == 0 {
		opts.WatchInterval = time.Second
	}
	h := &Host{lab: l, opts: opts, log: opts.Logger, checkWake: make(chan struct{}),
		faultWake: make(chan struct{}), done: ctx.Done()}
	h.speakers = &hostSpeakers{lab: l}
	h.captures = newHostCaptures(l, opts.Port, opts.Captures, opts.Logger)
	go func() {
		l.Check(ctx, lab.CheckOptions{Diagnoser: livediag.New(opts.StateDir), OnResult: h.addVerdict})
	}()
	return h
}

// addVerdict keeps one decided expectation and wakes the watchers.
func (h *Host) addVerdict(r lab.ExpectationResult) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.expectations = append(h.expectations, r)
	close(h.checkWake)
	h.checkWake = make(chan struct{})
}

// verdicts returns the verdicts decided so far and the channel closed at
// the next one.
func (h *Host) verdicts() ([]lab.ExpectationResult, <-chan struct{}) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]lab.ExpectationResult(nil), h.expectations...), h.checkWake
}

// Register adds the host's services to s: the per-lab API services,
// DiagnosisService and the report service `peerlab status` calls.
func (h *Host) Register(s *grpc.Server) {
	pb.RegisterLabServiceServer(s, h)
	pb.RegisterFaultServiceServer(s, h)
	pb.RegisterSpeakerServiceServer(s, h.speakers)
	pb.RegisterCaptureServiceServer(s, h.captures)
	pb.RegisterDiagnosisServiceServer(s, &Diagnosis{StateDir: h.opts.StateDir})
	s.RegisterService(&reportServiceDesc, h)
}

// Close stops the captures the host started.
func (h *Host) Close() error { return h.captures.close() }

// checkLab returns NotFound unless name is this host's lab.
func (h *Host) checkLab(name string) error {
	if name != h.lab.Topology().Name {
		return status.Errorf(codes.NotFound, "lab %q: %v", name, lab.ErrLabNotFound)
	}
	return nil
}

// snapshot describes the lab now.
func (h *Host) snapshot(ctx context.Context) *pb.Lab {
	topo := h.lab.Topology()
	out := &pb.Lab{
		Name: topo.Name, State: pb.LabState_LAB_STATE_RUNNING, Mode: modeToProto(h.lab.Mode()),
		HostPid: int32(os.Getpid()), Started: timestamppb.New(h.lab.Started()),
		CaptureFiles: h.lab.CaptureFiles(), Port: int32(h.opts.Port),
	}
	for _, n := range topo.Nodes {
		out.Nodes = append(out.Nodes, &pb.Node{Name: n.Name, Kind: n.Kind, BindAddress: h.lab.BindAddress(n.Name)})
	}
	sessions, err := h.lab.Sessions(ctx)
	if err != nil {
		h.log.Warn("sessions", zap.Error(err))
	}
	for _, s := range sessions {
		out.Sessions = append(out.Sessions, sessionToProto(s))
	}
	h.mu.Lock()
	for _, r := range h.expectations {
		out.Expectations = append(out.Expectations, expectationToProto(r))
	}
	h.mu.Unlock()
	for _, f := range h.lab.FaultLog() {
		out.Faults = append(out.Faults, faultToProto(f))
	}
	return out
}

// GetLab returns the lab.
func (h *Host) GetLab(ctx context.Context, req *pb.GetLabRequest) (*pb.GetLabResponse, error) {
	if err := h.checkLab(req.GetName()); err != nil {
		return nil, err
	}
	return &pb.GetLabResponse{Lab: h.snapshot(ctx)}, nil
}

// ListLabs returns the one lab.
func (h *Host) ListLabs(ctx context.Context, _ *pb.ListLabsRequest) (*pb.ListLabsResponse, error) {
	return &pb.ListLabsResponse{Labs: []*pb.Lab{h.snapshot(ctx)}}, nil
}

// DeleteLab asks the owner to tear the lab down.
func (h *Host) DeleteLab(_ context.Context, req *pb.DeleteLabRequest) (*pb.DeleteLabResponse, error) {
	if err := h.checkLab(req.GetName()); err != nil {
		return nil, err
	}
	if h.opts.OnDelete != nil {
		h.opts.OnDelete()
	}
	return &pb.DeleteLabResponse{}, nil
}

// WatchLab streams session changes, faults and expectation results.
func (h *Host) WatchLab(req *pb.WatchLabRequest, stream grpc.ServerStreamingServer[pb.WatchLabResponse]) error {
	if err := h.checkLab(req.GetName()); err != nil {
		return err
	}
	sentEvents, sentFaults, sentChecks := 0, 0, 0
	if !req.GetReplay() {
		_, sentEvents = h.lab.EventsSince(0)
		_, sentFaults = h.lab.FaultLogSince(0)
		done, _ := h.verdicts()
		sentChecks = len(done)
	}
	wake, unsubscribe := h.lab.Subscribe()
	defer unsubscribe()
	// Session events wake the watcher at once; the ticker catches what the
	// lab does not announce (faults scheduled by the topology).
	tick := time.NewTicker(h.opts.WatchInterval)
	defer tick.Stop()
	for {
		faultWake := h.faultsChanged()
		// Events in the order the lab recorded them: a position in the
		// time-sorted Events would skip one that arrived late.
		events, next := h.lab.EventsSince(sentEvents)
		for _, e := range events {
			if err := stream.Send(sessionEventToProto(e)); err != nil {
				return err
			}
		}
		sentEvents = next
		faults, nextFault := h.lab.FaultLogSince(sentFaults)
		sentFaults = nextFault
		for _, f := range faults {
			at := h.lab.Started().Add(time.Duration(f.AtMS) * time.Millisecond)
			if err := stream.Send(&pb.WatchLabResponse{Time: timestamppb.New(at),
				Event: &pb.WatchLabResponse_Fault{Fault: faultToProto(f)}}); err != nil {
				return err
			}
		}
		// Verdicts as each expectation is decided, with its time.
		res, checkWake := h.verdicts()
		for ; sentChecks < len(res); sentChecks++ {
			r := res[sentChecks]
			at := h.lab.Started().Add(time.Duration(r.AfterMS) * time.Millisecond)
			if err := stream.Send(&pb.WatchLabResponse{Time: timestamppb.New(at),
				Event: &pb.WatchLabResponse_Expectation{Expectation: expectationToProto(r)}}); err != nil {
				return err
			}
		}
		select {
		case <-stream.Context().Done():
			return nil
		case <-h.done:
			return status.Error(codes.Unavailable, "the lab is going down")
		case <-wake:
		case <-faultWake:
		case <-checkWake:
		case <-tick.C:
		}
	}
}

// faultsChanged returns the channel closed at the next fault through the host.
func (h *Host) faultsChanged() <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.faultWake
}

// faultLogged wakes the watchers after a fault was injected or healed.
func (h *Host) faultLogged() {
	h.mu.Lock()
	close(h.faultWake)
	h.faultWake = make(chan struct{})
	h.mu.Unlock()
}

// InjectFault applies a fault now.
func (h *Host) InjectFault(ctx context.Context, req *pb.InjectFaultRequest) (*pb.InjectFaultResponse, error) {
	f, err := h.fault(req.GetLab(), req.GetFault())
	if err != nil {
		return nil, err
	}
	if h.opts.TestHooks && f.Name == TestPanicFault {
		h.log.Warn("test hook: panicking in a goroutine")
		// Late enough for this reply to reach the caller.
		time.AfterFunc(200*time.Millisecond, func() { panic("peerlab test hook: " + TestPanicFault) })
		return &pb.InjectFaultResponse{}, nil
	}
	defer h.faultLogged()
	if err := h.lab.InjectFault(ctx, faultFromProto(f)); err != nil {
		return nil, faultStatus(err, "InjectFault")
	}
	return &pb.InjectFaultResponse{}, nil
}

// HealFault undoes a fault.
func (h *Host) HealFault(ctx context.Context, req *pb.HealFaultRequest) (*pb.HealFaultResponse, error) {
	f, err := h.fault(req.GetLab(), req.GetFault())
	if err != nil {
		return nil, err
	}
	defer h.faultLogged()
	if err := h.lab.HealFault(ctx, faultFromProto(f)); err != nil {
		return nil, faultStatus(err, "HealFault")
	}
	return &pb.HealFaultResponse{}, nil
}

// ListFaults returns the fault log.
func (h *Host) ListFaults(_ context.Context, req *pb.ListFaultsRequest) (*pb.ListFaultsResponse, error) {
	if err := h.checkLab(req.GetLab()); err != nil {
		return nil, err
	}
	out := &pb.ListFaultsResponse{}
	for _, f := range h.lab.FaultLog() {
		out.Faults = append(out.Faults, faultToProto(f))
	}
	return out, nil
}

// fault checks a fault request: the lab, the fault name and the nodes.
func (h *Host) fault(labName string, f *pb.Fault) (*pb.Fault, error) {
	if err := h.checkLab(labName); err != nil {
		return nil, err
	}
	if f == nil {
		return nil, status.Error(codes.InvalidArgument, "fault: required")
	}
	if err := required("fault.name", f.GetName()); err != nil {
		return nil, err
	}
	if _, ok := lab.NewDefaultFaultRegistry().Lookup(f.GetName()); !ok && !(h.opts.TestHooks && f.GetName() == TestPanicFault) {
		return nil, status.Errorf(codes.InvalidArgument, "fault.name: unknown fault %q", f.GetName())
	}
	for field, node := range map[string]string{"fault.node": f.GetNode(), "fault.peer": f.GetPeer()} {
		if node != "" && h.lab.Topology().Node(node) == nil {
			return nil, status.Errorf(codes.NotFound, "%s: lab %s has no node %q", field, labName, node)
		}
	}
	if err := required("fault.node", f.GetNode()); err != nil {
		return nil, err
	}
	return f, nil
}

// faultStatus maps a fault error: unsupported and already-active faults are
// FailedPrecondition, anything else the lab refused too.
func faultStatus(err error, what string) error {
	st, _ := status.FromError(toStatus(err, what))
	if st.Code() == codes.Internal {
		return status.Error(codes.FailedPrecondition, st.Message())
	}
	return st.Err()
}
