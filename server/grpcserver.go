package server

import (
	"time"

	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"
)

// MaxMessageSize bounds one gRPC message either way (a ListRib batch, a
// capture chunk, the artifacts of a diagnosis).
const MaxMessageSize = 64 << 20

// NewGRPCServer builds a gRPC server with peerlab's settings: message size
// limits, keepalive enforcement and parameters, panic recovery in handlers,
// the grpc.health.v1 health service and server reflection. Register the
// API services on it before serving.
func NewGRPCServer(log *zap.Logger, extra ...grpc.ServerOption) (*grpc.Server, *health.Server) {
	if log == nil {
		log = zap.NewNop()
	}
	opts := append([]grpc.ServerOption{
		grpc.MaxRecvMsgSize(MaxMessageSize),
		grpc.MaxSendMsgSize(MaxMessageSize),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{
			MinTime: 10 * time.Second, PermitWithoutStream: true,
		}),
		grpc.KeepaliveParams(keepalive.ServerParameters{
			MaxConnectionIdle: 30 * time.Minute, Time: 2 * time.Minute, Timeout: 20 * time.Second,
		}),
		grpc.ChainUnaryInterceptor(recoverUnary(log)),
		grpc.ChainStreamInterceptor(recoverStream(log)),
	}, extra...)
	s := grpc.NewServer(opts...)
	hs := health.NewServer()
	healthpb.RegisterHealthServer(s, hs)
	reflection.Register(s)
	return s, hs
}
