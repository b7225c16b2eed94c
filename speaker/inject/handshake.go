package inject

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/osrg/gobgp/v4/pkg/packet/bgp"
)

// asTrans stands in for a 4-byte AS in OPEN's 2-byte field (RFC 6793).
const asTrans = 23456

// errHoldExpired is readLoop's error when the peer stayed silent for the
// hold time; the writer then sends the NOTIFICATION.
var errHoldExpired = errors.New("hold timer expired")

// negotiated is what both OPENs agreed on.
type negotiated struct {
	hold     time.Duration
	families [2]bool // by family
}

// familyNames lists the negotiated families.
func (n negotiated) familyNames() []string {
	var out []string
	for f, ok := range n.families {
		if ok {
			out = append(out, family(f).String())
		}
	}
	return out
}

// NotificationError is a NOTIFICATION that ended a session.
type NotificationError struct {
	// Direction is "sent" or "received".
	Direction     string
	Code, Subcode uint8
	Data          []byte
}

// Error renders the NOTIFICATION with its RFC name.
func (e *NotificationError) Error() string {
	return fmt.Sprintf("notification %s: %d/%d (%s)", e.Direction, e.Code, e.Subcode,
		bgp.NewNotificationErrorCode(e.Code, e.Subcode).String())
}

// handshake sends the OPEN, reads and checks the peer's, and exchanges
// KEEPALIVEs (OpenSent, OpenConfirm). On a bad OPEN it sends the
// NOTIFICATION RFC 4271 asks for.
func (s *session) handshake(conn net.Conn, r *bufio.Reader, w *bufio.Writer) (negotiated, error) {
	var neg negotiated
	cfg := s.in.cfg
	open, err := s.openMessage()
	if err != nil {
		return neg, err
	}
	if _, err := w.Write(open); err != nil {
		return neg, fmt.Errorf("send open: %w", err)
	}
	if err := w.Flush(); err != nil {
		return neg, fmt.Errorf("send open: %w", err)
	}
	s.setState(StateOpenSent)
	_ = conn.SetReadDeadline(time.Now().Add(openTimeout))
	defer conn.SetReadDeadline(time.Time{})

	typ, body, err := readMessage(r)
	if err != nil {
		return neg, fmt.Errorf("read open: %w", err)
	}
	switch typ {
	case msgNotification:
		return neg, notificationError(body, "received")
	case msgOpen:
	default:
		_ = writeNotification(w, 5, 1, nil) // FSM error in OpenSent
		return neg, fmt.Errorf("peer sent message type %d instead of OPEN", typ)
	}
	peerOpen, err := parseOpen(body)
	if err != nil {
		_ = writeNotification(w, 2, 0, nil)
		return neg, err
	}
	as, fourOctet := peerOpen.as, peerOpen.fourOctet
	if !fourOctet {
		_ = writeNotification(w, 2, 7, nil) // Unsupported Capability
		return neg, errors.New("peer does not offer the 4-octet AS capability (RFC 6793); the injector needs it")
	}
	if as != s.peer.AS {
		_ = writeNotification(w, 2, 2, nil) // Bad Peer AS
		return neg, &NotificationError{Direction: "sent", Code: 2, Subcode: 2,
			Data: []byte(fmt.Sprintf("peer is AS %d, want %d", as, s.peer.AS))}
	}
	if peerOpen.hold != 0 && peerOpen.hold < 3*time.Second {
		_ = writeNotification(w, 2, 6, nil) // Unacceptable Hold Time
		return neg, fmt.Errorf("peer hold time %s is below 3 s", peerOpen.hold)
	}
	neg.hold = min(max(cfg.HoldTime, 0), peerOpen.hold)
	if cfg.HoldTime < 0 {
		neg.hold = 0
	}
	neg.families = peerOpen.families
	if !peerOpen.mp { // no multiprotocol capability: IPv4 unicast only
		neg.families = [2]bool{true, false}
	}
	if _, err := w.Write(keepalive()); err != nil {
		return neg, fmt.Errorf("send keepalive: %w", err)
	}
	if err := w.Flush(); err != nil {
		return neg, fmt.Errorf("send keepalive: %w", err)
	}
	s.setState(StateOpenConfirm)
	typ, body, err = readMessage(r)
	if err != nil {
		return neg, fmt.Errorf("read keepalive: %w", err)
	}
	switch typ {
	case msgKeepalive:
		return neg, nil
	case msgNotification:
		return neg, notificationError(body, "received")
	default:
		_ = writeNotification(w, 5, 2, nil) // FSM error in OpenConfirm
		return neg, fmt.Errorf("peer sent message type %d instead of KEEPALIVE", typ)
	}
}

// openMessage is the injector's OPEN: its AS (AS_TRANS when it needs 4
// bytes), hold time, router ID, and the capabilities multiprotocol IPv4
// and IPv6 unicast and 4-octet AS.
func (s *session) openMessage() ([]byte, error) {
	cfg := s.in.cfg
	my := uint16(asTrans)
	if cfg.AS <= 0xffff {
		my = uint16(cfg.AS)
	}
	hold := uint16(max(cfg.HoldTime, 0) / time.Second)
	caps := []bgp.ParameterCapabilityInterface{
		bgp.NewCapMultiProtocol(bgp.RF_IPv4_UC),
		bgp.NewCapMultiProtocol(bgp.RF_IPv6_UC),
		bgp.NewCapFourOctetASNumber(cfg.AS),
	}
	msg, err := bgp.NewBGPOpenMessage(my, hold, cfg.RouterID,
		[]bgp.OptionParameterInterface{bgp.NewOptionParameterCapability(caps)})
	if err != nil {
		return nil, fmt.Errorf("build open: %w", err)
	}
	b, err := msg.Serialize()
	if err != nil {
		return nil, fmt.Errorf("build open: %w", err)
	}
	return b, nil
}

// peerOpen is what the injector reads from the peer's OPEN.
type peerOpen struct {
	as        uint32
	fourOctet bool
	hold      time.Duration
	mp        bool    // any multiprotocol capability
	families  [2]bool // multiprotocol IPv4 / IPv6 unicast
}

// parseOpen decodes an OPEN body with GoBGP's codec; a panic in the codec
// is a malformed OPEN, not a crash.
func parseOpen(body []byte) (o peerOpen, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed open: %v", r)
		}
	}()
	var open bgp.BGPOpen
	if err := open.DecodeFromBytes(body); err != nil {
		return o, fmt.Errorf("malformed open: %w", err)
	}
	if open.Version != 4 {
		return o, fmt.Errorf("open: BGP version %d, want 4", open.Version)
	}
	o.as = uint32(open.MyAS)
	o.hold = time.Duration(open.HoldTime) * time.Second
	for _, p := range open.OptParams {
		pc, ok := p.(*bgp.OptionParameterCapability)
		if !ok {
			continue
		}
		for _, c := range pc.Capability {
			switch c := c.(type) {
			case *bgp.CapFourOctetASNumber:
				o.as, o.fourOctet = c.CapValue, true
			case *bgp.CapMultiProtocol:
				o.mp = true
				switch c.CapValue {
				case bgp.RF_IPv4_UC:
					o.families[ipv4] = true
				case bgp.RF_IPv6_UC:
					o.families[ipv6] = true
				}
			}
		}
	}
	return o, nil
}

// readMessage reads one BGP message and returns its type and body.
func readMessage(r io.Reader) (byte, []byte, error) {
	var h [headerLen]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, nil, err
	}
	for _, m := range h[:16] {
		if m != 0xff {
			return 0, nil, errors.New("message header: marker is not all ones")
		}
	}
	n := int(binary.BigEndian.Uint16(h[16:18]))
	if n < headerLen || n > 65535 {
		return 0, nil, fmt.Errorf("message header: bad length %d", n)
	}
	body := make([]byte, n-headerLen)
	if _, err := io.ReadFull(r, body); err != nil {
		return 0, nil, err
	}
	return h[18], body, nil
}

// notificationError decodes a NOTIFICATION body.
func notificationError(body []byte, dir string) error {
	e := &NotificationError{Direction: dir}
	if len(body) >= 2 {
		e.Code, e.Subcode, e.Data = body[0], body[1], append([]byte(nil), body[2:]...)
	}
	return e
}

// writeNotification writes and flushes a NOTIFICATION.
func writeNotification(w *bufio.Writer, code, subcode uint8, data []byte) error {
	b := appendHeader(nil, msgNotification)
	b = append(b, code, subcode)
	b = append(b, data...)
	if _, err := w.Write(setLength(b)); err != nil {
		return err
	}
	return w.Flush()
}
