package server

import (
	"context"
	"errors"
	"io"

	"google.golang.org/grpc"

	pb "github.com/peerlab/peerlab/proto/peerlab/v1"
)

// forward copies a server stream from the lab host to the caller.
func forward[T any](up grpc.ServerStreamingClient[T], down grpc.ServerStreamingServer[T]) error {
	for {
		msg, err := up.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := down.Send(msg); err != nil {
			return err
		}
	}
}

// speakerProxy forwards SpeakerService calls to the lab's host.
type speakerProxy struct {
	pb.UnimplementedSpeakerServiceServer
	m *Manager
}

// client returns the lab host's speaker client.
func (p *speakerProxy) client(labName string) (pb.SpeakerServiceClient, error) {
	conn, err := p.m.conn(labName)
	if err != nil {
		return nil, err
	}
	return pb.NewSpeakerServiceClient(conn), nil
}

// AddPaths forwards.
func (p *speakerProxy) AddPaths(ctx context.Context, req *pb.AddPathsRequest) (*pb.AddPathsResponse, error) {
	c, err := p.client(req.GetLab())
	if err != nil {
		return nil, err
	}
	return c.AddPaths(ctx, req)
}

// WithdrawPaths forwards.
func (p *speakerProxy) WithdrawPaths(ctx context.Context, req *pb.WithdrawPathsRequest) (*pb.WithdrawPathsResponse, error) {
	c, err := p.client(req.GetLab())
	if err != nil {
		return nil, err
	}
	return c.WithdrawPaths(ctx, req)
}

// AddPathsStream forwards the batches once the first names the lab.
func (p *speakerProxy) AddPathsStream(stream grpc.ClientStreamingServer[pb.AddPathsStreamRequest, pb.AddPathsStreamResponse]) error {
	first, err := stream.Recv()
	if errors.Is(err, io.EOF) {
		return stream.SendAndClose(&pb.AddPathsStreamResponse{})
	}
	if err != nil {
		return err
	}
	c, err := p.client(first.GetLab())
	if err != nil {
		return err
	}
	up, err := c.AddPathsStream(stream.Context())
	if err != nil {
		return err
	}
	for msg := first; ; {
		if err := up.Send(msg); err != nil {
			// The host ended the stream: its status says why.
			_, rerr := up.CloseAndRecv()
			if rerr != nil {
				return rerr
			}
			return err
		}
		msg, err = stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
	}
	resp, err := up.CloseAndRecv()
	if err != nil {
		return err
	}
	return stream.SendAndClose(resp)
}

// ListRib forwards.
func (p *speakerProxy) ListRib(req *pb.ListRibRequest, stream grpc.ServerStreamingServer[pb.ListRibResponse]) error {
	c, err := p.client(req.GetLab())
	if err != nil {
		return err
	}
	up, err := c.ListRib(stream.Context(), req)
	if err != nil {
		return err
	}
	return forward(up, stream)
}

// AddPeer forwards.
func (p *speakerProxy) AddPeer(ctx context.Context, req *pb.AddPeerRequest) (*pb.AddPeerResponse, error) {
	c, err := p.client(req.GetLab())
	if err != nil {
		return nil, err
	}
	return c.AddPeer(ctx, req)
}

// DeletePeer forwards.
func (p *speakerProxy) DeletePeer(ctx context.Context, req *pb.DeletePeerRequest) (*pb.DeletePeerResponse, error) {
	c, err := p.client(req.GetLab())
	if err != nil {
		return nil, err
	}
	return c.DeletePeer(ctx, req)
}

// ResetPeer forwards.
func (p *speakerProxy) ResetPeer(ctx context.Context, req *pb.ResetPeerRequest) (*pb.ResetPeerResponse, error) {
	c, err := p.client(req.GetLab())
	if err != nil {
		return nil, err
	}
	return c.ResetPeer(ctx, req)
}

// faultProxy forwards FaultService calls to the lab's host.
type faultProxy struct {
	pb.UnimplementedFaultServiceServer
	m *Manager
}

// client returns the lab host's fault client.
func (p *faultProxy) client(labName string) (pb.FaultServiceClient, error) {
	conn, err := p.m.conn(labName)
	if err != nil {
		return nil, err
	}
	return pb.NewFaultServiceClient(conn), nil
}

// InjectFault forwards.
func (p *faultProxy) InjectFault(ctx context.Context, req *pb.InjectFaultRequest) (*pb.InjectFaultResponse, error) {
	c, err := p.client(req.GetLab())
	if err != nil {
		return nil, err
	}
	return c.InjectFault(ctx, req)
}

// HealFault forwards.
func (p *faultProxy) HealFault(ctx context.Context, req *pb.HealFaultRequest) (*pb.HealFaultResponse, error) {
	c, err := p.client(req.GetLab())
	if err != nil {
		return nil, err
	}
	return c.HealFault(ctx, req)
}

// ListFaults forwards.
func (p *faultProxy) ListFaults(ctx context.Context, req *pb.ListFaultsRequest) (*pb.ListFaultsResponse, error) {
	c, err := p.client(req.GetLab())
	if err != nil {
		return nil, err
	}
	return c.ListFaults(ctx, req)
}

// captureProxy forwards CaptureService calls to the lab's host.
type captureProxy struct {
	pb.UnimplementedCaptureServiceServer
	m *Manager
}

// client returns the lab host's capture client.
func (p *captureProxy) client(labName string) (pb.CaptureServiceClient, error) {
	conn, err := p.m.conn(labName)
	if err != nil {
		return nil, err
	}
	return pb.NewCaptureServiceClient(conn), nil
}

// StartCapture forwards.
func (p *captureProxy) StartCapture(ctx context.Context, req *pb.StartCaptureRequest) (*pb.StartCaptureResponse, error) {
	c, err := p.client(req.GetLab())
	if err != nil {
		return nil, err
	}
	return c.StartCapture(ctx, req)
}

// StopCapture forwards.
func (p *captureProxy) StopCapture(ctx context.Context, req *pb.StopCaptureRequest) (*pb.StopCaptureResponse, error) {
	c, err := p.client(req.GetLab())
	if err != nil {
		return nil, err
	}
	return c.StopCapture(ctx, req)
}

// DownloadCapture forwards.
func (p *captureProxy) DownloadCapture(req *pb.DownloadCaptureRequest, stream grpc.ServerStreamingServer[pb.DownloadCaptureResponse]) error {
	c, err := p.client(req.GetLab())
	if err != nil {
		return err
	}
	up, err := c.DownloadCapture(stream.Context(), req)
	if err != nil {
		return err
	}
	return forward(up, stream)
}

// WatchDecoded forwards.
func (p *captureProxy) WatchDecoded(req *pb.WatchDecodedRequest, stream grpc.ServerStreamingServer[pb.WatchDecodedResponse]) error {
	c, err := p.client(req.GetLab())
	if err != nil {
		return err
	}
	up, err := c.WatchDecoded(stream.Context(), req)
	if err != nil {
		return err
	}
	return forward(up, stream)
}
