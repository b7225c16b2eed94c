// Package client is a small Go client of peerlab's gRPC API (`peerlab
// serve`, proto/peerlab/v1): the generated service clients on one
// connection, plus the few helpers test harnesses keep writing (wait for a
// session to be Established, announce many routes in batches).
package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	pb "github.com/peerlab/peerlab/proto/peerlab/v1"
)

// maxMessageSize matches the server's limit (server.MaxMessageSize).
const maxMessageSize = 64 << 20

// Client holds one connection to a peerlab server and its services.
type Client struct {
	conn *grpc.ClientConn

	Labs      pb.LabServiceClient
	Speakers  pb.SpeakerServiceClient
	Faults    pb.FaultServiceClient
	Captures  pb.CaptureServiceClient
	Diagnosis pb.DiagnosisServiceClient
}

// New connects to target ("unix:///run/peerlab/serve.sock",
// "127.0.0.1:7179" …). The connection is plaintext unless opts say
// otherwise: the Unix socket admits callers by their credentials; a TCP
// server needs WithToken (or grpc.WithTransportCredentials for mutual TLS).
func New(target string, opts ...grpc.DialOption) (*Client, error) {
	opts = append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, opts...)
	opts = append(opts, grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMessageSize),
		grpc.MaxCallSendMsgSize(maxMessageSize)))
	conn, err := grpc.NewClient(target, opts...)
	if err != nil {
		return nil, fmt.Errorf("connect to peerlab at %s: %w", target, err)
	}
	return &Client{conn: conn,
		Labs: pb.NewLabServiceClient(conn), Speakers: pb.NewSpeakerServiceClient(conn),
		Faults: pb.NewFaultServiceClient(conn), Captures: pb.NewCaptureServiceClient(conn),
		Diagnosis: pb.NewDiagnosisServiceClient(conn)}, nil
}

// WithToken sends the bearer token of `peerlab serve --listen` with every
// call (metadata "authorization: Bearer TOKEN"), also over plaintext
// loopback connections.
func WithToken(token string) grpc.DialOption {
	return grpc.WithPerRPCCredentials(bearer(strings.TrimSpace(token)))
}

// ReadToken reads the token file serve writes (<state-dir>/serve.token,
// or --token-file).
func ReadToken(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read peerlab token: %w", err)
	}
	return strings.TrimSpace(string(data)), nil
}

// bearer is a token as per-call credentials.
type bearer string

// GetRequestMetadata returns the authorization header.
func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}

// RequireTransportSecurity is false: loopback TCP servers are plaintext.
func (bearer) RequireTransportSecurity() bool { return false }

// NewUnix connects to a server's Unix socket.
func NewUnix(path string, opts ...grpc.DialOption) (*Client, error) {
	return New("unix://"+path, opts...)
}

// Conn is the underlying connection, for services beside the API (the
// report service a lab's control socket serves for `peerlab status`).
func (c *Client) Conn() grpc.ClientConnInterface { return c.conn }

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// ErrLabFailed is returned by WaitEstablished when the lab fails first.
var ErrLabFailed = errors.New("lab failed")

// WaitEstablished watches lab (replaying what already happened) until
// local's session with remote is seen Established, or ctx ends.
func (c *Client) WaitEstablished(ctx context.Context, lab, local, remote string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.Labs.WatchLab(ctx, &pb.WatchLabRequest{Name: lab, Replay: true})
	if err != nil {
		return fmt.Errorf("watch lab %s: %w", lab, err)
	}
	for {
		ev, err := stream.Recv()
		if err != nil {
			return fmt.Errorf("watch lab %s for %s-%s Established: %w", lab, local, remote, err)
		}
		if st := ev.GetState(); st != nil && st.GetState() == pb.LabState_LAB_STATE_FAILED {
			return fmt.Errorf("lab %s: %w: %s", lab, ErrLabFailed, st.GetFailure())
		}
		s := ev.GetSession()
		if s != nil && s.GetTo() == "Established" && s.GetLocal() == local && s.GetRemote() == remote {
			return nil
		}
	}
}

// AddPaths announces routes from node in batches of batch (1000 when 0)
// over one AddPathsStream call and returns how many the server added.
func (c *Client) AddPaths(ctx context.Context, lab, node string, routes []*pb.Route, batch int) (uint64, error) {
	if batch <= 0 {
		batch = 1000
	}
	stream, err := c.Speakers.AddPathsStream(ctx)
	if err != nil {
		return 0, fmt.Errorf("add paths on %s/%s: %w", lab, node, err)
	}
	for len(routes) > 0 {
		n := min(batch, len(routes))
		if err := stream.Send(&pb.AddPathsStreamRequest{Lab: lab, Node: node, Routes: routes[:n]}); err != nil {
			if errors.Is(err, io.EOF) {
				break // the server ended the stream; CloseAndRecv says why
			}
			return 0, fmt.Errorf("add paths on %s/%s: %w", lab, node, err)
		}
		routes = routes[n:]
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		return 0, fmt.Errorf("add paths on %s/%s: %w", lab, node, err)
	}
	return resp.GetAdded(), nil
}

// CountRIB streams a node's best-path table and counts its paths.
func (c *Client) CountRIB(ctx context.Context, lab, node string) (int, error) {
	stream, err := c.Speakers.ListRib(ctx, &pb.ListRibRequest{Lab: lab, Node: node})
	if err != nil {
		return 0, fmt.Errorf("rib of %s/%s: %w", lab, node, err)
	}
	n := 0
	for {
		batch, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, fmt.Errorf("rib of %s/%s: %w", lab, node, err)
		}
		n += len(batch.GetPaths())
	}
}
