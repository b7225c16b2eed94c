package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.uber.org/zap"
	"google.golang.org/grpc/status"

	"github.com/peerlab/peerlab/lab"
	"github.com/peerlab/peerlab/lab/topology"
)

// HostConfig is what a lab host process needs.
type HostConfig struct {
	// TopologyFile is the topology to bring up.
	TopologyFile string
	// Socket is the Unix socket to serve the lab's gRPC services on.
	Socket string
	// StateDir, Port, Mode and CaptureDir are lab.Options.
	StateDir   string
	Port       int
	Mode       lab.Mode
	CaptureDir string
	// Logger receives logs; nil means none.
	Logger *zap.Logger
	// TestHooks enables TestPanicFault.
	TestHooks bool
	// Source is the topology file recorded in the lab's state file;
	// "" means TopologyFile.
	Source string
	// NodeStarted, when not nil, is told each node started (lab.Options).
	NodeStarted func(started, total int)
	// OnReady, when not nil, is called once the lab is up, served and
	// published, before Ready is told.
	OnReady func(l *lab.Lab)
	// Ready, when not nil, is told "ready" once the lab is up and served,
	// or "error CODE MESSAGE" (CODE a gRPC code name) when it cannot be;
	// it is closed after that one line.
	Ready io.WriteCloser
}

// RunHost is a lab host process, the one owner of a running lab whether
// `peerlab up` or `peerlab serve` started it: it brings the lab up, serves
// its gRPC services on cfg.Socket, publishes the lab's state file
// (lab.WriteState, with the socket) so every peerlab command finds the lab
// by name, and runs until ctx ends or a client deletes the lab; then it
// tears the lab down.
func RunHost(ctx context.Context, cfg HostConfig) (err error) {
	log := cfg.Logger
	if log == nil {
		log = zap.NewNop()
	}
	defer func() {
		if err != nil && cfg.Ready != nil {
			st, _ := status.FromError(toStatus(err, "lab host"))
			fmt.Fprintf(cfg.Ready, "error %s %s\n", st.Code(), strings.ReplaceAll(st.Message(), "\n", "; "))
			cfg.Ready.Close()
		}
	}()
	topo, err := topology.Load(cfg.TopologyFile)
	if err != nil {
		return err
	}
	if cfg.Port == 0 {
		cfg.Port = lab.DefaultPort
	}
	if cfg.StateDir == "" {
		cfg.StateDir = lab.DefaultStateDir()
	}
	l, err := lab.Up(ctx, topo, lab.Options{Logger: log, StateDir: cfg.StateDir, Port: cfg.Port,
		Mode: cfg.Mode, CaptureDir: cfg.CaptureDir, NodeStarted: cfg.NodeStarted})
	if err != nil {
		return fmt.Errorf("bring lab %s up: %w", topo.Name, err)
	}
	defer func() {
		if derr := l.Down(); derr != nil {
			log.Warn("tear down", zap.Error(derr))
		}
	}()
	_ = os.Remove(cfg.Socket)
	raw, err := net.Listen("unix", cfg.Socket)
	if err != nil {
		return fmt.Errorf("lab %s: listen on %s: %w", topo.Name, cfg.Socket, err)
	}
	// Only the owner's user talks to a lab's own socket (the CLI, serve).
	if err := os.Chmod(cfg.Socket, 0o600); err != nil {
		raw.Close()
		return fmt.Errorf("lab %s: chmod %s: %w", topo.Name, cfg.Socket, err)
	}
	ln := trackConns(raw)
	hctx, stop := context.WithCancel(ctx)
	defer stop()
	h := NewHost(hctx, l, HostOptions{Logger: log, OnDelete: stop, Port: cfg.Port, TestHooks: cfg.TestHooks,
		StateDir: cfg.StateDir})
	defer h.Close()
	gs, _ := NewGRPCServer(log)
	h.Register(gs)
	served := make(chan error, 1)
	go func() { served <- gs.Serve(ln) }()
	if err := publish(cfg, l); err != nil {
		ln.closeAll()
		gs.Stop()
		return err
	}
	if cfg.OnReady != nil {
		cfg.OnReady(l)
	}
	if cfg.Ready != nil {
		fmt.Fprintln(cfg.Ready, "ready")
		cfg.Ready.Close()
		cfg.Ready = nil
	}
	select {
	case <-hctx.Done():
	case err := <-served:
		if err != nil && !errors.Is(err, net.ErrClosed) {
			log.Warn("serve", zap.Error(err))
		}
	}
	log.Info("tearing the lab down", zap.String("lab", topo.Name))
	graceful := make(chan struct{})
	go func() { gs.GracefulStop(); close(graceful) }()
	select {
	case <-graceful:
	case <-time.After(2 * time.Second):
		ln.closeAll() // connections still in their handshake too
		gs.Stop()
	}
	return nil
}

// publish writes the lab's state file: who owns it and where its socket is.
func publish(cfg HostConfig, l *lab.Lab) error {
	source := cfg.Source
	if source == "" {
		source = cfg.TopologyFile
	}
	if abs, err := filepath.Abs(source); err == nil {
		source = abs
	}
	socket := cfg.Socket
	if abs, err := filepath.Abs(socket); err == nil {
		socket = abs
	}
	topo := l.Topology()
	st := lab.LabState{Name: topo.Name, Source: source, Mode: l.Mode(), PID: os.Getpid(),
		Socket: socket, Started: l.Started(), Nodes: map[string]string{}}
	for _, n := range topo.Nodes {
		st.Nodes[n.Name] = n.Kind
	}
	return lab.WriteState(cfg.StateDir, st)
}
