package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/peerlab/peerlab/lab"
	"github.com/peerlab/peerlab/lab/agent"
	pb "github.com/peerlab/peerlab/proto/peerlab/v1"
	"github.com/peerlab/peerlab/speaker"
)

// speakerAPI is what the speaker service needs of a gobgp node: the
// embedded *speaker.Speaker of a loopback node and the *agent.Client of a
// namespace-mode node both have it; injector nodes have part of it
// (injectorAPI).
type speakerAPI interface {
	AddPeer(ctx context.Context, p speaker.PeerConfig) error
	DeletePeer(ctx context.Context, addr netip.Addr) error
	ResetPeer(ctx context.Context, addr netip.Addr) error
	Announce(ctx context.Context, routes []speaker.Route) error
	Withdraw(ctx context.Context, prefixes []netip.Prefix) error
	RIB(ctx context.Context, t speaker.Table, peer netip.Addr, f speaker.Family) ([]speaker.Path, error)
}

// agentNode is implemented by namespace-mode gobgp nodes.
type agentNode interface {
	Client() *agent.Client
}

// ribBatch is how many paths one ListRibResponse carries.
const ribBatch = 1000

// hostSpeakers serves SpeakerService for the host's lab.
type hostSpeakers struct {
	pb.UnimplementedSpeakerServiceServer
	lab *lab.Lab
}

// speaker finds the speaker of a gobgp node.
func (h *hostSpeakers) speaker(labName, node string) (speakerAPI, error) {
	if labName != h.lab.Topology().Name {
		return nil, status.Errorf(codes.NotFound, "lab %q: %v", labName, lab.ErrLabNotFound)
	}
	if err := required("node", node); err != nil {
		return nil, err
	}
	n := h.lab.Node(node)
	if n == nil {
		return nil, status.Errorf(codes.NotFound, "node: lab %s has no node %q", labName, node)
	}
	switch n := n.(type) {
	case lab.SpeakerNode:
		if s := n.Speaker(); s != nil {
			return s, nil
		}
	case agentNode:
		if c := n.Client(); c != nil {
			return c, nil
		}
	case lab.RouteInjector:
		return injectorAPI{RouteInjector: n, node: node}, nil
	default:
		return nil, status.Errorf(codes.FailedPrecondition, "node %s is not a gobgp node", node)
	}
	return nil, status.Errorf(codes.Unavailable, "node %s: speaker not running", node)
}

// AddPaths announces routes.
func (h *hostSpeakers) AddPaths(ctx context.Context, req *pb.AddPathsRequest) (*pb.AddPathsResponse, error) {
	s, err := h.speaker(req.GetLab(), req.GetNode())
	if err != nil {
		return nil, err
	}
	routes, err := routesFromProto("routes", req.GetRoutes())
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	h.labNextHop(req.GetNode(), routes)
	if err := s.Announce(ctx, routes); err != nil {
		return nil, toStatus(err, "announce on "+req.GetNode())
	}
	return &pb.AddPathsResponse{Added: uint64(len(routes))}, nil
}

// labNextHop gives every route without a next hop, of the family of the
// node's lab address, that address as next hop: the one the node's
// topology routes carry. Without it a loopback-mode speaker would use its
// bind address (127.x.y.z), which means nothing inside the lab.
func (h *hostSpeakers) labNextHop(node string, routes []speaker.Route) {
	n := h.lab.Topology().Node(node)
	if n == nil || !n.Address.IsValid() {
		return
	}
	for i := range routes {
		if !routes[i].NextHop.IsValid() && routes[i].Prefix.Addr().Is4() == n.Address.Is4() {
			routes[i].NextHop = n.Address
		}
	}
}

// WithdrawPaths withdraws routes by prefix.
func (h *hostSpeakers) WithdrawPaths(ctx context.Context, req *pb.WithdrawPathsRequest) (*pb.WithdrawPathsResponse, error) {
	s, err := h.speaker(req.GetLab(), req.GetNode())
	if err != nil {
		return nil, err
	}
	prefixes := make([]netip.Prefix, 0, len(req.GetPrefixes()))
	for i, p := range req.GetPrefixes() {
		pp, err := netip.ParsePrefix(p)
		if err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "prefixes[%d]: %v", i, err)
		}
		prefixes = append(prefixes, pp)
	}
	if err := s.Withdraw(ctx, prefixes); err != nil {
		return nil, toStatus(err, "withdraw on "+req.GetNode())
	}
	return &pb.WithdrawPathsResponse{Withdrawn: uint64(len(prefixes))}, nil
}

// AddPathsStream announces each received batch.
func (h *hostSpeakers) AddPathsStream(stream grpc.ClientStreamingServer[pb.AddPathsStreamRequest, pb.AddPathsStreamResponse]) error {
	var (
		s     speakerAPI
		node  string
		added uint64
	)
	for i := 0; ; i++ {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return stream.SendAndClose(&pb.AddPathsStreamResponse{Added: added})
		}
		if err != nil {
			return err
		}
		if s == nil {
			node = req.GetNode()
			if s, err = h.speaker(req.GetLab(), node); err != nil {
				return err
			}
		}
		routes, err := routesFromProto(fmt.Sprintf("message[%d].routes", i), req.GetRoutes())
		if err != nil {
			return status.Error(codes.InvalidArgument, err.Error())
		}
		h.labNextHop(node, routes)
		if err := s.Announce(stream.Context(), routes); err != nil {
			return toStatus(err, "announce on "+node)
		}
		added += uint64(len(routes))
	}
}

// ListRib streams a RIB table in batches.
func (h *hostSpeakers) ListRib(req *pb.ListRibRequest, stream grpc.ServerStreamingServer[pb.ListRibResponse]) error {
	s, err := h.speaker(req.GetLab(), req.GetNode())
	if err != nil {
		return err
	}
	table := speaker.TableBest
	var peer netip.Addr
	switch req.GetTable() {
	case pb.RibTable_RIB_TABLE_ADJ_IN, pb.RibTable_RIB_TABLE_ADJ_OUT:
		table = speaker.TableAdjIn
		if req.GetTable() == pb.RibTable_RIB_TABLE_ADJ_OUT {
			table = speaker.TableAdjOut
		}
		if peer, err = netip.ParseAddr(req.GetPeer()); err != nil {
			return status.Errorf(codes.InvalidArgument, "peer: %v", err)
		}
	}
	family := speaker.IPv4Unicast
	if req.GetFamily() != "" {
		family = speaker.Family(req.GetFamily())
		if family != speaker.IPv4Unicast && family != speaker.IPv6Unicast {
			return status.Errorf(codes.InvalidArgument, "family: %q is not ipv4-unicast or ipv6-unicast", req.GetFamily())
		}
	}
	paths, err := s.RIB(stream.Context(), table, peer, family)
	if err != nil {
		return toStatus(err, "rib of "+req.GetNode())
	}
	for len(paths) > 0 {
		n := min(ribBatch, len(paths))
		batch := &pb.ListRibResponse{Paths: make([]*pb.Path, 0, n)}
		for _, p := range paths[:n] {
			batch.Paths = append(batch.Paths, pathToProto(p))
		}
		if err := stream.Send(batch); err != nil {
			return err
		}
		paths = paths[n:]
	}
	return nil
}

// AddPeer configures a neighbor.
func (h *hostSpeakers) AddPeer(ctx context.Context, req *pb.AddPeerRequest) (*pb.AddPeerResponse, error) {
	s, err := h.speaker(req.GetLab(), req.GetNode())
	if err != nil {
		return nil, err
	}
	p, err := peerFromProto(req.GetPeer())
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	if err := s.AddPeer(ctx, p); err != nil {
		return nil, toStatus(err, "add peer on "+req.GetNode())
	}
	return &pb.AddPeerResponse{}, nil
}

// peerAddr parses the address field of DeletePeer and ResetPeer.
func peerAddr(a string) (netip.Addr, error) {
	addr, err := netip.ParseAddr(a)
	if err != nil {
		return addr, status.Errorf(codes.InvalidArgument, "address: %v", err)
	}
	return addr, nil
}

// DeletePeer removes a neighbor.
func (h *hostSpeakers) DeletePeer(ctx context.Context, req *pb.DeletePeerRequest) (*pb.DeletePeerResponse, error) {
	s, err := h.speaker(req.GetLab(), req.GetNode())
	if err != nil {
		return nil, err
	}
	addr, err := peerAddr(req.GetAddress())
	if err != nil {
		return nil, err
	}
	if err := s.DeletePeer(ctx, addr); err != nil {
		return nil, toStatus(err, "delete peer on "+req.GetNode())
	}
	return &pb.DeletePeerResponse{}, nil
}

// ResetPeer hard-resets a session.
func (h *hostSpeakers) ResetPeer(ctx context.Context, req *pb.ResetPeerRequest) (*pb.ResetPeerResponse, error) {
	s, err := h.speaker(req.GetLab(), req.GetNode())
	if err != nil {
		return nil, err
	}
	addr, err := peerAddr(req.GetAddress())
	if err != nil {
		return nil, err
	}
	if err := s.ResetPeer(ctx, addr); err != nil {
		return nil, toStatus(err, "reset peer on "+req.GetNode())
	}
	return &pb.ResetPeerResponse{}, nil
}
