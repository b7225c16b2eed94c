package server

import (
	"context"
	"net/netip"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/peerlab/peerlab/lab"
	"github.com/peerlab/peerlab/speaker"
)

// injectorAPI gives an injector node the speaker service's shape: it
// announces and withdraws (AddPaths, AddPathsStream, WithdrawPaths), and
// answers FailedPrecondition to what needs a RIB or a peer table.
type injectorAPI struct {
	lab.RouteInjector
	node string
}

// noRIB is the status of a speaker call an injector cannot serve.
func (i injectorAPI) noRIB(what string) error {
	return status.Errorf(codes.FailedPrecondition,
		"node %s is an injector: it announces and withdraws but has no %s (use a gobgp node)", i.node, what)
}

// AddPeer is refused: an injector's peers come from the topology.
func (i injectorAPI) AddPeer(context.Context, speaker.PeerConfig) error { return i.noRIB("peer table") }

// DeletePeer is refused like AddPeer.
func (i injectorAPI) DeletePeer(context.Context, netip.Addr) error { return i.noRIB("peer table") }

// ResetPeer is refused like AddPeer.
func (i injectorAPI) ResetPeer(context.Context, netip.Addr) error { return i.noRIB("peer table") }

// RIB is refused: an injector keeps no RIB.
func (i injectorAPI) RIB(context.Context, speaker.Table, netip.Addr, speaker.Family) ([]speaker.Path, error) {
	return nil, i.noRIB("RIB")
}
