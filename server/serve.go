package server

import (
	"context"
	"fmt"
	"net"
	"time"

	"go.uber.org/zap"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// ServeOptions configure Serve.
type ServeOptions struct {
	Listen  ListenOptions
	Manager ManagerOptions
	// KeepLabs leaves the labs running when the server stops.
	KeepLabs bool
	// Logger receives logs; nil means none.
	Logger *zap.Logger
	// OnListening, when set, is called with the listener's address once
	// the server accepts calls.
	OnListening func(net.Addr)
	// StatsEvery, when positive, logs the server's goroutines, heap and
	// file descriptors at that interval (RuntimeStatsMessage, level info).
	StatsEvery time.Duration
}

// Serve runs `peerlab serve` until ctx ends: it stops accepting, tears the
// labs down (unless KeepLabs) and returns nil.
func Serve(ctx context.Context, opts ServeOptions) error {
	log := opts.Logger
	if log == nil {
		log = zap.NewNop()
	}
	opts.Manager.Logger = log
	m, err := NewManager(opts.Manager)
	if err != nil {
		return err
	}
	ln, sopts, err := Listen(opts.Listen)
	if err != nil {
		return err
	}
	gs, hs := NewGRPCServer(log, sopts...)
	m.Register(gs)
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	served := make(chan error, 1)
	go func() { served <- gs.Serve(ln) }()
	log.Info("serving", zap.Stringer("address", ln.Addr()))
	if opts.StatsEvery > 0 {
		statsCtx, stopStats := context.WithCancel(ctx)
		defer stopStats()
		go logRuntimeStats(statsCtx, log, opts.StatsEvery)
	}
	if opts.OnListening != nil {
		opts.OnListening(ln.Addr())
	}
	select {
	case <-ctx.Done():
	case err := <-served:
		m.Shutdown(context.Background(), opts.KeepLabs)
		return fmt.Errorf("serve: %w", err)
	}
	log.Info("stopping: no new calls; tearing labs down", zap.Bool("keep_labs", opts.KeepLabs))
	hs.Shutdown()
	stopped := make(chan struct{})
	go func() { gs.GracefulStop(); close(stopped) }()
	m.Shutdown(context.Background(), opts.KeepLabs)
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		gs.Stop()
	}
	return nil
}
