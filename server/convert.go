package server

import (
	"fmt"
	"net/netip"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/peerlab/peerlab/lab"
	"github.com/peerlab/peerlab/lab/topology"
	pb "github.com/peerlab/peerlab/proto/peerlab/v1"
	"github.com/peerlab/peerlab/speaker"
)

// modeToProto maps a lab mode to its enum.
func modeToProto(m lab.Mode) pb.LabMode {
	switch m {
	case lab.ModeLoopback:
		return pb.LabMode_LAB_MODE_LOOPBACK
	case lab.ModeNamespace:
		return pb.LabMode_LAB_MODE_NAMESPACE
	}
	return pb.LabMode_LAB_MODE_UNSPECIFIED
}

// modeFromProto maps the enum to a lab mode.
func modeFromProto(m pb.LabMode) lab.Mode {
	switch m {
	case pb.LabMode_LAB_MODE_LOOPBACK:
		return lab.ModeLoopback
	case pb.LabMode_LAB_MODE_NAMESPACE:
		return lab.ModeNamespace
	}
	return lab.ModeAuto
}

// notificationToProto converts a lab NOTIFICATION (nil stays nil).
func notificationToProto(n *lab.Notification) *pb.Notification {
	if n == nil {
		return nil
	}
	return &pb.Notification{Code: uint32(n.Code), Subcode: uint32(n.Subcode), Name: n.Name, Sent: n.Sent}
}

// sessionEventToProto converts one session state change.
func sessionEventToProto(e lab.SessionEvent) *pb.WatchLabResponse {
	return &pb.WatchLabResponse{
		Time: timestamppb.New(e.Time),
		Event: &pb.WatchLabResponse_Session{Session: &pb.SessionEvent{
			Local: e.Local, Remote: e.Remote, From: e.From, To: e.To, Reason: e.Reason,
			Notification: notificationToProto(e.Notification),
		}},
	}
}

// faultToProto converts one fault log entry.
func faultToProto(f lab.FaultEvent) *pb.FaultRecord {
	return &pb.FaultRecord{AtMs: f.AtMS, Action: f.Action, Fault: f.Fault, Node: f.Node, Peer: f.Peer, Error: f.Error, Name: f.Label}
}

// expectationToProto converts one expectation result.
func expectationToProto(r lab.ExpectationResult) *pb.ExpectationResult {
	out := &pb.ExpectationResult{Description: r.Description, Ok: r.OK, Detail: r.Detail, Line: int32(r.Line), AfterMs: r.AfterMS,
		Kind: r.Kind, Basis: r.Basis, WindowFromMs: r.WindowFromMS, WindowToMs: r.WindowToMS,
		HeldFromMs: r.HeldFromMS, BrokeAtMs: r.BrokeAtMS}
	for _, f := range r.Findings {
		out.Findings = append(out.Findings, &pb.Finding{Cause: f.Cause, Confidence: f.Confidence, Node: f.Node, Peer: f.Peer, Summary: f.Summary})
	}
	return out
}

// sessionToProto converts one end's view of a session.
func sessionToProto(s lab.SessionStatus) *pb.Session {
	return &pb.Session{Local: s.Local, Remote: s.Remote, State: s.State, LastError: s.LastError,
		Notification: notificationToProto(s.Notification)}
}

// faultFromProto converts a requested fault.
func faultFromProto(f *pb.Fault) *topology.Fault {
	return &topology.Fault{Name: f.GetName(), Node: f.GetNode(), Peer: f.GetPeer(), Params: f.GetParams()}
}

// routesFromProto parses routes, naming the field of the first bad one.
func routesFromProto(field string, rs []*pb.Route) ([]speaker.Route, error) {
	out := make([]speaker.Route, 0, len(rs))
	for i, r := range rs {
		p, err := netip.ParsePrefix(r.GetPrefix())
		if err != nil {
			return nil, fmt.Errorf("%s[%d].prefix: %w", field, i, err)
		}
		sr := speaker.Route{Prefix: p, Communities: r.GetCommunities(), Prepend: int(r.GetPrepend()),
			MED: r.GetMed(), LocalPref: r.GetLocalPref()}
		if r.GetNextHop() != "" {
			if sr.NextHop, err = netip.ParseAddr(r.GetNextHop()); err != nil {
				return nil, fmt.Errorf("%s[%d].next_hop: %w", field, i, err)
			}
		}
		out = append(out, sr)
	}
	return out, nil
}

// pathToProto converts one RIB path.
func pathToProto(p speaker.Path) *pb.Path {
	out := &pb.Path{Prefix: p.Prefix.String(), AsPath: p.ASPath, Communities: p.Communities,
		LocalPref: p.LocalPref, Med: p.MED, Best: p.Best}
	if p.NextHop.IsValid() {
		out.NextHop = p.NextHop.String()
	}
	if p.From.IsValid() {
		out.From = p.From.String()
	}
	return out
}

// peerFromProto converts a neighbor configuration.
func peerFromProto(p *pb.PeerConfig) (speaker.PeerConfig, error) {
	addr, err := netip.ParseAddr(p.GetAddress())
	if err != nil {
		return speaker.PeerConfig{}, fmt.Errorf("peer.address: %w", err)
	}
	out := speaker.PeerConfig{
		Name: p.GetName(), Address: addr, Port: int(p.GetPort()), ASN: p.GetAsn(),
		RouteReflectorClient: p.GetRouteReflectorClient(), Passive: p.GetPassive(), Password: p.GetPassword(),
		Multihop: uint8(p.GetMultihop()), TTLSecurity: uint8(p.GetTtlSecurity()),
		Timers: speaker.Timers{
			Hold:         time.Duration(p.GetHoldTimeSeconds()) * time.Second,
			Keepalive:    time.Duration(p.GetKeepaliveSeconds()) * time.Second,
			ConnectRetry: time.Duration(p.GetConnectRetrySeconds()) * time.Second,
		},
	}
	if p.GetLocalAddress() != "" {
		if out.LocalAddress, err = netip.ParseAddr(p.GetLocalAddress()); err != nil {
			return out, fmt.Errorf("peer.local_address: %w", err)
		}
	}
	for _, f := range p.GetFamilies() {
		out.Families = append(out.Families, speaker.Family(f))
	}
	return out, nil
}
