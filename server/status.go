package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime/debug"

	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/peerlab/peerlab/lab"
	"github.com/peerlab/peerlab/lab/topology"
	"github.com/peerlab/peerlab/speaker"
	"github.com/peerlab/peerlab/speaker/inject"
)

// toStatus maps an error of the lab, speaker or topology packages to a gRPC
// status; what prefixes the message. An error that already is a status
// keeps its code.
func toStatus(err error, what string) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	code := codes.Internal
	var terr *topology.Error
	switch {
	case errors.Is(err, context.Canceled):
		code = codes.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		code = codes.DeadlineExceeded
	case errors.As(err, &terr):
		code = codes.InvalidArgument
	case errors.Is(err, lab.ErrLabNotFound), errors.Is(err, speaker.ErrPeerNotFound):
		code = codes.NotFound
	case errors.Is(err, lab.ErrLabExists):
		code = codes.AlreadyExists
	case errors.Is(err, inject.ErrJournalFull):
		code = codes.ResourceExhausted
	case errors.Is(err, lab.ErrNeedsRoot), errors.Is(err, lab.ErrFaultUnsupported),
		errors.Is(err, speaker.ErrNotStarted), errors.Is(err, speaker.ErrClosed):
		code = codes.FailedPrecondition
	}
	return status.Errorf(code, "%s: %v", what, err)
}

// panicError turns a recovered panic into an Internal status. The panic
// value and stack go to the log under a generated id; the caller gets only
// the id, never the panic text (which may quote files or memory it has no
// right to see).
func panicError(log *zap.Logger, method string, p any) error {
	var b [8]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	log.Error("panic in gRPC handler", zap.String("method", method), zap.String("panic_id", id),
		zap.Any("panic", p), zap.ByteString("stack", debug.Stack()))
	return status.Errorf(codes.Internal, "internal error (id %s)", id)
}

// recoverUnary recovers panics in unary handlers, so one bad call cannot
// take the process down (panics in goroutines a handler starts are not
// reachable from here: that is what lab host processes are for).
func recoverUnary(log *zap.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (resp any, err error) {
		defer func() {
			if p := recover(); p != nil {
				err = panicError(log, info.FullMethod, p)
			}
		}()
		return h(ctx, req)
	}
}

// recoverStream is recoverUnary for streaming handlers.
func recoverStream(log *zap.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = panicError(log, info.FullMethod, p)
			}
		}()
		return h(srv, ss)
	}
}

// required returns InvalidArgument when a required field is empty.
func required(field, value string) error {
	if value == "" {
		return status.Error(codes.InvalidArgument, fmt.Sprintf("%s: required", field))
	}
	return nil
}
