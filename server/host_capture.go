package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"time"

	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/peerlab/peerlab/capture"
	"github.com/peerlab/peerlab/lab"
	pb "github.com/peerlab/peerlab/proto/peerlab/v1"
)

// downloadChunk is the size of one DownloadCaptureResponse.
const downloadChunk = 64 << 10

// hostCaptures serves CaptureService for the host's lab.
type hostCaptures struct {
	pb.UnimplementedCaptureServiceServer
	lab  *lab.Lab
	port int
	log  *zap.Logger

	limits CaptureLimits

	mu   sync.Mutex
	next int
	caps map[string]*liveCapture
}

// liveCapture is one capture started through the API.
type liveCapture struct {
	c    *capture.Capture
	path string
	done chan struct{} // closed once stopped
	once sync.Once
}

// stop ends the capture once.
func (lc *liveCapture) stop() error {
	var err error
	lc.once.Do(func() { err = lc.c.Stop(); close(lc.done) })
	return err
}

// newHostCaptures serves captures of l; port is its BGP port in loopback mode.
func newHostCaptures(l *lab.Lab, port int, limits CaptureLimits, log *zap.Logger) *hostCaptures {
	return &hostCaptures{lab: l, port: port, limits: limits.withDefaults(), log: log, caps: map[string]*liveCapture{}}
}

// bgpPort is the port the lab's sessions use.
func (h *hostCaptures) bgpPort() int {
	if h.lab.Mode() == lab.ModeNamespace || h.port == 0 {
		if h.lab.Mode() == lab.ModeNamespace {
			return 179
		}
		return lab.DefaultPort
	}
	return h.port
}

// checkLab returns NotFound unless name is this host's lab.
func (h *hostCaptures) checkLab(name string) error {
	if name != h.lab.Topology().Name {
		return status.Errorf(codes.NotFound, "lab %q: %v", name, lab.ErrLabNotFound)
	}
	return nil
}

// StartCapture records a node or the whole lab.
func (h *hostCaptures) StartCapture(ctx context.Context, req *pb.StartCaptureRequest) (*pb.StartCaptureResponse, error) {
	if err := h.checkLab(req.GetLab()); err != nil {
		return nil, err
	}
	node := req.GetNode()
	if node != "" && h.lab.Topology().Node(node) == nil {
		return nil, status.Errorf(codes.NotFound, "node: lab %s has no node %q", req.GetLab(), node)
	}
	dir := filepath.Join(h.lab.Dir(), "api-captures")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, status.Errorf(codes.Internal, "capture folder: %v", err)
	}
	if err := h.admit(dir); err != nil {
		return nil, err
	}
	h.mu.Lock()
	h.next++
	id := fmt.Sprintf("cap-%d", h.next)
	h.mu.Unlock()
	path := filepath.Join(dir, id+".pcapng")
	opts := capture.Options{Ports: []int{h.bgpPort()}, Path: path, Logger: h.log.Named("capture")}
	var (
		c   *capture.Capture
		err error
	)
	if h.lab.Mode() == lab.ModeNamespace {
		st := lab.LabState{Name: h.lab.Topology().Name, Mode: h.lab.Mode(), Nodes: map[string]string{}}
		for _, n := range h.lab.Topology().Nodes {
			st.Nodes[n.Name] = n.Kind
		}
		t, terr := lab.CaptureTargetOf(st, node)
		if terr != nil {
			return nil, status.Errorf(codes.FailedPrecondition, "capture target: %v", terr)
		}
		c, err = lab.StartCapture(context.Background(), t, opts)
	} else {
		opts.Interface = "lo"
		for _, n := range h.lab.Topology().Nodes {
			if node != "" && n.Name != node {
				continue
			}
			if a, perr := netip.ParseAddr(h.lab.BindAddress(n.Name)); perr == nil {
				opts.Networks = append(opts.Networks, netip.PrefixFrom(a, a.BitLen()))
			}
		}
		c, err = capture.Start(context.Background(), opts)
	}
	if err != nil {
		return nil, status.Errorf(codes.FailedPrecondition, "start capture (live capture needs root or CAP_NET_RAW): %v", err)
	}
	lc := &liveCapture{c: c, path: path, done: make(chan struct{})}
	h.mu.Lock()
	h.caps[id] = lc
	h.mu.Unlock()
	go h.enforce(id, lc, dir)
	return &pb.StartCaptureResponse{CaptureId: id, Path: path}, nil
}

// StopCapture finishes a capture's file.
func (h *hostCaptures) StopCapture(_ context.Context, req *pb.StopCaptureRequest) (*pb.StopCaptureResponse, error) {
	if err := h.checkLab(req.GetLab()); err != nil {
		return nil, err
	}
	h.mu.Lock()
	lc, ok := h.caps[req.GetCaptureId()]
	h.mu.Unlock()
	if !ok {
		return nil, status.Errorf(codes.NotFound, "capture_id: no capture %q", req.GetCaptureId())
	}
	if err := lc.stop(); err != nil {
		return nil, status.Errorf(codes.Internal, "stop capture %s: %v", req.GetCaptureId(), err)
	}
	st := lc.c.Stats()
	return &pb.StopCaptureResponse{Packets: uint64(st.Kept), Bytes: uint64(st.Bytes)}, nil
}

// file finds a capture's file: an API capture, or one of the lab's own
// capture files by base name. live is nil for a finished file.
func (h *hostCaptures) file(labName, id string) (string, *liveCapture, error) {
	if err := h.checkLab(labName); err != nil {
		return "", nil, err
	}
	h.mu.Lock()
	lc, ok := h.caps[id]
	h.mu.Unlock()
	if ok {
		select {
		case <-lc.done:
			return lc.path, nil, nil
		default:
			return lc.path, lc, nil
		}
	}
	for _, f := range h.lab.CaptureFiles() {
		if filepath.Base(f) == id {
			return f, nil, nil
		}
	}
	return "", nil, status.Errorf(codes.NotFound, "capture_id: no capture %q", id)
}

// DownloadCapture streams a capture file; a live capture is sent as far as
// it has been written.
func (h *hostCaptures) DownloadCapture(req *pb.DownloadCaptureRequest, stream grpc.ServerStreamingServer[pb.DownloadCaptureResponse]) error {
	path, _, err := h.file(req.GetLab(), req.GetCaptureId())
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return status.Errorf(codes.NotFound, "capture %s: %v", req.GetCaptureId(), err)
	}
	defer f.Close()
	buf := make([]byte, downloadChunk)
	for {
		n, err := f.Read(buf)
		if n > 0 {
			if serr := stream.Send(&pb.DownloadCaptureResponse{Chunk: append([]byte(nil), buf[:n]...)}); serr != nil {
				return serr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return status.Errorf(codes.Internal, "read capture: %v", err)
		}
	}
}

// WatchDecoded decodes a capture as it grows and streams its events.
func (h *hostCaptures) WatchDecoded(req *pb.WatchDecodedRequest, stream grpc.ServerStreamingServer[pb.WatchDecodedResponse]) error {
	path, live, err := h.file(req.GetLab(), req.GetCaptureId())
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return status.Errorf(codes.NotFound, "capture %s: %v", req.GetCaptureId(), err)
	}
	defer f.Close()
	var r io.Reader = f
	if live != nil {
		r = &followReader{ctx: stream.Context(), f: f, done: live.done}
	}
	var sendErr error
	_, err = capture.Decode(r, capture.DecodeOptions{
		Ports: []int{h.bgpPort()},
		OnEvent: func(e capture.Event) {
			if sendErr != nil {
				return
			}
			js, _ := json.Marshal(e)
			sendErr = stream.Send(&pb.WatchDecodedResponse{Event: &pb.CaptureEvent{
				Time: timestamppb.New(e.Time), From: e.From.String(), To: e.To.String(),
				Kind: e.Kind.String(), Summary: e.Summary(), Json: string(js),
			}})
		},
	})
	if sendErr != nil {
		return sendErr
	}
	if stream.Context().Err() != nil {
		return nil
	}
	if err != nil {
		return status.Errorf(codes.Internal, "decode capture %s: %v", req.GetCaptureId(), err)
	}
	return nil
}

// followReader reads a growing file, waiting at its end until the capture
// writing it stops (then io.EOF) or ctx ends.
type followReader struct {
	ctx  context.Context
	f    *os.File
	done <-chan struct{}
}

// Read reads what is there, or waits for more.
func (fr *followReader) Read(p []byte) (int, error) {
	for {
		n, err := fr.f.Read(p)
		if n > 0 || !errors.Is(err, io.EOF) {
			return n, err
		}
		select {
		case <-fr.done:
			return fr.f.Read(p)
		case <-fr.ctx.Done():
			return 0, fr.ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// close stops every capture still running.
func (h *hostCaptures) close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	var errs []error
	for _, lc := range h.caps {
		errs = append(errs, lc.stop())
	}
	return errors.Join(errs...)
}
