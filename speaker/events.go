package speaker

import (
	"context"
	"net/netip"
	"time"

	"github.com/osrg/gobgp/v4/api"
	"github.com/osrg/gobgp/v4/pkg/apiutil"
	"github.com/osrg/gobgp/v4/pkg/packet/bgp"
	"go.uber.org/zap"
)

// downCause is why a session failed, as GoBGP reported it.
type downCause struct {
	reason       string
	notification *Notification
}

// stateFromFSM maps GoBGP's FSM state onto the package's State names.
func stateFromFSM(st bgp.FSMState) State {
	switch st {
	case bgp.BGP_FSM_IDLE:
		return StateIdle
	case bgp.BGP_FSM_CONNECT:
		return StateConnect
	case bgp.BGP_FSM_ACTIVE:
		return StateActive
	case bgp.BGP_FSM_OPENSENT:
		return StateOpenSent
	case bgp.BGP_FSM_OPENCONFIRM:
		return StateOpenConfirm
	case bgp.BGP_FSM_ESTABLISHED:
		return StateEstablished
	}
	return StateUnknown
}

// stateFromAPI maps the session state of GoBGP's ListPeer answer.
func stateFromAPI(st api.PeerState_SessionState) State {
	switch st {
	case api.PeerState_SESSION_STATE_IDLE:
		return StateIdle
	case api.PeerState_SESSION_STATE_CONNECT:
		return StateConnect
	case api.PeerState_SESSION_STATE_ACTIVE:
		return StateActive
	case api.PeerState_SESSION_STATE_OPENSENT:
		return StateOpenSent
	case api.PeerState_SESSION_STATE_OPENCONFIRM:
		return StateOpenConfirm
	case api.PeerState_SESSION_STATE_ESTABLISHED:
		return StateEstablished
	}
	return StateUnknown
}

// downCauseOf extracts the failure from a GoBGP peer event, or nil when the
// transition is not a failure (idle-hold timer expiry, new connection,
// OPEN received, ...). GoBGP reports the side that detects a bad peer AS
// only as "bad-peer-as", although it sends OPEN Message Error / Bad Peer
// AS: that case is rewritten into the notification-sent form so both ends
// of the session read alike.
func (s *Speaker) downCauseOf(st apiutil.PeerState) *downCause {
	switch st.DisconnectReason {
	case api.PeerState_DISCONNECT_REASON_UNSPECIFIED,
		api.PeerState_DISCONNECT_REASON_IDLE_TIMER_EXPIRED:
		return nil
	case api.PeerState_DISCONNECT_REASON_BAD_PEER_AS:
		code, sub := uint8(bgp.BGP_ERROR_OPEN_MESSAGE_ERROR), uint8(bgp.BGP_ERROR_SUB_BAD_PEER_AS)
		return &downCause{
			reason:       sentMessage(code, sub),
			notification: &Notification{Code: code, Subcode: sub, Name: NotificationName(code, sub), Sent: true},
		}
	}
	return &downCause{reason: st.DisconnectMessage, notification: s.names.parse(st.DisconnectMessage)}
}

// unknownNotificationName names a NOTIFICATION whose code GoBGP did not
// report.
const unknownNotificationName = "unknown NOTIFICATION (received before Established; GoBGP does not report its code)"

// noticeUnreportedNotification fills in a NOTIFICATION that GoBGP
// swallowed. GoBGP v4.8.0 treats a NOTIFICATION received in OpenSent or
// OpenConfirm as an unexpected message: the session goes Idle with
// "invalid-msg" and the code is dropped (its fsm.go openconfirm:
// "send notification ?"). Its received-NOTIFICATION counter still counts
// it, so when an invalid-msg failure from those states comes with a grown
// counter, the peer did send a NOTIFICATION: the cause becomes a received
// Notification with Code 0 (unknown). The counter is read on every
// failure so the baseline stays current.
func (s *Speaker) noticeUnreportedNotification(addr netip.Addr, reason api.PeerState_DisconnectReason, down *downCause) {
	from := s.peers.state(addr)
	var count uint64
	err := s.bgp.ListPeer(context.Background(), &api.ListPeerRequest{Address: addr.String()}, func(p *api.Peer) {
		if p.State != nil && p.State.Messages != nil && p.State.Messages.Received != nil {
			count = p.State.Messages.Received.Notification
		}
	})
	if err != nil {
		return
	}
	grew := s.peers.noteNotifications(addr, count)
	if !grew || reason != api.PeerState_DISCONNECT_REASON_INVALID_MSG || down.notification != nil {
		return
	}
	if from != StateOpenSent && from != StateOpenConfirm {
		return
	}
	down.reason = prefixNotificationReceived + "before Established, code not reported by GoBGP (" + down.reason + ")"
	down.notification = &Notification{Name: unknownNotificationName}
}

// onPeerUpdate is GoBGP's peer-event callback. It runs on GoBGP's watcher
// goroutine, one at a time and in order; it updates the tracker and queues
// the event for subscribers without waiting for them.
func (s *Speaker) onPeerUpdate(ev *apiutil.WatchEventMessage_PeerEvent, at time.Time) {
	if ev.Type != apiutil.PEER_EVENT_STATE {
		return
	}
	addr := ev.Peer.State.NeighborAddress
	if !addr.IsValid() {
		addr = ev.Peer.Conf.NeighborAddress
	}
	to := stateFromFSM(ev.Peer.State.SessionState)
	var down *downCause
	if to != StateEstablished {
		down = s.downCauseOf(ev.Peer.State)
	}
	if down != nil {
		s.noticeUnreportedNotification(addr, ev.Peer.State.DisconnectReason, down)
	}
	out, ok := s.peers.transition(addr, to, at, down)
	if !ok {
		return
	}
	out.Speaker = s.cfg.Name
	if down != nil {
		s.log.Info("session down",
			zap.Stringer("peer", addr),
			zap.String("from", string(out.From)),
			zap.String("to", string(out.To)),
			zap.String("reason", out.Reason))
	} else {
		s.log.Debug("session state",
			zap.Stringer("peer", addr),
			zap.String("from", string(out.From)),
			zap.String("to", string(out.To)))
	}
	s.events.publish(out)
}

// Subscribe registers fn for session state changes. Events reach fn in the
// order GoBGP produced them, from one goroutine per speaker; fn should
// return quickly, because later events (and Close) wait for it, though the
// speaker itself never does. The returned function unsubscribes; an event
// already being delivered may still reach fn once.
func (s *Speaker) Subscribe(fn func(Event)) (unsubscribe func()) {
	return s.events.subscribe(fn)
}

// onSentNotification is called by the log tap for every NOTIFICATION GoBGP
// sends. It keeps the NOTIFICATION as the peer's last one and tells
// subscribers, so a refusal GoBGP sends without a state change (a bad peer
// AS seen on a connection it dialled itself) is still reported.
func (s *Speaker) onSentNotification(addr netip.Addr, code, sub uint8) {
	n := Notification{Code: code, Subcode: sub, Name: NotificationName(code, sub), Sent: true}
	ev, ok := s.peers.noteSent(addr, n, sentMessage(code, sub), time.Now())
	if !ok {
		return
	}
	ev.Speaker = s.cfg.Name
	s.log.Info("notification sent", zap.Stringer("peer", addr), zap.Uint8("code", code), zap.Uint8("subcode", sub))
	s.events.publish(ev)
}
