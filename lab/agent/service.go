package agent

import (
	"fmt"
	"net/netip"

	"github.com/peerlab/peerlab/speaker"
)

// service holds the RPC methods. net/rpc exports every method of this
// type, so it has no others.
type service struct{ s *server }

// Ping answers at once: the lab's first call, which tells it the agent
// serves and speaks the same protocol (Protocol).
func (v *service) Ping(h Hello, _ *Empty) error {
	if mine := Protocol(); h.Protocol != mine {
		return fmt.Errorf("agent protocol %s, lab protocol %s: the agent program is from another build", mine, h.Protocol)
	}
	return nil
}

// Start creates and starts the speaker.
func (v *service) Start(cfg StartConfig, _ *Empty) error { return v.s.start(cfg) }

// Restart replaces the speaker by a new one started from cfg, without
// peers or routes.
func (v *service) Restart(cfg StartConfig, _ *Empty) error { return v.s.restart(cfg) }

// AddPeer configures a neighbor.
func (v *service) AddPeer(p speaker.PeerConfig, _ *Empty) error {
	sp, err := v.s.speaker()
	if err != nil {
		return err
	}
	return sp.AddPeer(v.s.base, p)
}

// DeletePeer removes the neighbor at addr.
func (v *service) DeletePeer(addr netip.Addr, _ *Empty) error {
	sp, err := v.s.speaker()
	if err != nil {
		return err
	}
	return sp.DeletePeer(v.s.base, addr)
}

// ResetPeer hard-resets the session with the neighbor at addr.
func (v *service) ResetPeer(addr netip.Addr, _ *Empty) error {
	sp, err := v.s.speaker()
	if err != nil {
		return err
	}
	return sp.ResetPeer(v.s.base, addr)
}

// Announce originates routes.
func (v *service) Announce(routes []speaker.Route, _ *Empty) error {
	sp, err := v.s.speaker()
	if err != nil {
		return err
	}
	return sp.Announce(v.s.base, routes)
}

// Withdraw withdraws the routes of prefixes.
func (v *service) Withdraw(prefixes []netip.Prefix, _ *Empty) error {
	sp, err := v.s.speaker()
	if err != nil {
		return err
	}
	return sp.Withdraw(v.s.base, prefixes)
}

// Peers reports every neighbor's session.
func (v *service) Peers(_ Empty, out *[]speaker.PeerStatus) error {
	sp, err := v.s.speaker()
	if err != nil {
		return err
	}
	*out, err = sp.Peers(v.s.base)
	return nonNull(out, err)
}

// RIB reads one RIB table.
func (v *service) RIB(q RIBQuery, out *[]speaker.Path) error {
	sp, err := v.s.speaker()
	if err != nil {
		return err
	}
	*out, err = sp.RIB(v.s.base, q.Table, q.Peer, q.Family)
	return nonNull(out, err)
}

// Events returns the events from q.Since on, waiting up to q.MaxWait for
// one when there are none yet. It works before Start and after Close (it
// then returns what is buffered without waiting).
func (v *service) Events(q EventsQuery, out *EventBatch) error {
	*out = v.s.events.wait(v.s.base, q.Since, MaxEventsBatch, min(max(q.MaxWait, 0), MaxEventsWait))
	return nil
}

// Close closes the speaker; once the reply is written Serve returns.
func (v *service) Close(_ Empty, _ *Empty) error { return v.s.closeSpeaker() }

// nonNull makes a nil slice reply an empty one: the JSON-RPC client
// refuses a null result that comes without an error.
func nonNull[T any](out *[]T, err error) error {
	if *out == nil {
		*out = []T{}
	}
	return err
}
