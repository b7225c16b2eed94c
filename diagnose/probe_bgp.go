package diagnose

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"

	"github.com/osrg/gobgp/v4/pkg/packet/bgp"
	"golang.org/x/sys/unix"
)

// Outcomes of the TCP connect part of a session probe.
const (
	connectOK              = "connected"
	connectRefused         = "refused"
	connectTimeout         = "timed out"
	connectNetUnreachable  = "no route"          // ENETUNREACH
	connectHostUnreachable = "host unreachable"  // EHOSTUNREACH: ARP failure or ICMP admin-prohibited (IPv4)
	connectProhibited      = "admin-prohibited"  // EACCES/EPERM: local firewall or ICMPv6 admin-prohibited
	connectNoSource        = "source not usable" // EADDRNOTAVAIL: the source address is not on the node
	connectError           = "error"
)

// Outcomes of the BGP part of a session probe.
const (
	bgpOpen         = "open"         // the peer answered with an OPEN
	bgpNotification = "notification" // the peer sent a NOTIFICATION
	bgpClosed       = "closed"       // the peer closed the connection without a message
	bgpReset        = "reset"        // the peer reset the connection
	bgpSilent       = "silent"       // nothing arrived before the deadline
)

// sessionProbe is what connecting to a peer as the node would, and
// speaking BGP as the node, showed.
type sessionProbe struct {
	Node, Peer string
	// Source is the local address the probe bound (bird.cfg's source
	// address), or "" for the kernel's choice.
	Source string
	// MD5 is true when the probe signed its segments with the node's password.
	MD5 bool
	// Connect is one of the connect* outcomes; ConnectErr the error text.
	Connect    string
	ConnectErr string
	// BGP is one of the bgp* outcomes, "" when the connect failed.
	BGP string
	// Code and Subcode are the peer's NOTIFICATION's.
	Code, Subcode uint8
	// PeerAS, PeerID and HoldTime are from the peer's OPEN.
	PeerAS   uint32
	PeerID   string
	HoldTime uint16
	// Took is how long the probe ran.
	Took time.Duration
}

// probeSpec says how to probe one session.
type probeSpec struct {
	NSPath   string
	Source   netip.Addr // may be invalid: the kernel chooses
	Peer     netip.AddrPort
	LocalAS  uint32
	RouterID netip.Addr
	Password string
	// ConnectTimeout bounds the connect; Deadline the whole probe.
	ConnectTimeout time.Duration
	Deadline       time.Time
}

// probeSession connects to the peer from the node's namespace as its BIRD
// would (same source address, same MD5 password), classifies the connect
// outcome, and when connected and the node's AS is known sends an OPEN
// with the node's AS and router id and reports what comes back. It ends a session that answered OPEN
// politely with a Cease NOTIFICATION.
func probeSession(ctx context.Context, spec probeSpec) sessionProbe {
	start := time.Now()
	res := sessionProbe{Peer: spec.Peer.Addr().String(), MD5: spec.Password != ""}
	if spec.Source.IsValid() {
		res.Source = spec.Source.String()
	}
	defer func() { res.Took = time.Since(start) }()
	ctx, cancel := context.WithDeadline(ctx, spec.Deadline)
	defer cancel()
	var conn net.Conn
	err := inNamespace(spec.NSPath, func() error {
		d := net.Dialer{Timeout: spec.ConnectTimeout, Control: md5Control(spec.Peer.Addr(), spec.Password)}
		if spec.Source.IsValid() {
			d.LocalAddr = &net.TCPAddr{IP: spec.Source.AsSlice()}
		}
		var err error
		conn, err = d.DialContext(ctx, "tcp", spec.Peer.String())
		return err
	})
	if err != nil {
		res.Connect, res.ConnectErr = classifyConnect(err), err.Error()
		return res
	}
	defer conn.Close()
	res.Connect = connectOK
	if spec.LocalAS == 0 {
		// An OPEN with AS 0 would only earn a Bad Peer AS: without the
		// node's AS the probe stops at the connect.
		return res
	}
	_ = conn.SetDeadline(spec.Deadline)
	speakBGP(conn, spec, &res)
	return res
}

// md5Control returns a dialer Control function that sets the TCP MD5
// signature key for peer, or nil without a password.
func md5Control(peer netip.Addr, password string) func(string, string, syscall.RawConn) error {
	if password == "" {
		return nil
	}
	return func(_, _ string, rc syscall.RawConn) error {
		sig := unix.TCPMD5Sig{Keylen: uint16(copy(make([]byte, 80), password))}
		copy(sig.Key[:], password)
		if peer.Is4() {
			sig.Addr.Family = unix.AF_INET
			a := peer.As4()
			copy(sig.Addr.Data[2:6], a[:])
		} else {
			sig.Addr.Family = unix.AF_INET6
			a := peer.As16()
			copy(sig.Addr.Data[6:22], a[:])
		}
		var serr error
		if err := rc.Control(func(fd uintptr) {
			serr = unix.SetsockoptTCPMD5Sig(int(fd), unix.IPPROTO_TCP, unix.TCP_MD5SIG, &sig)
		}); err != nil {
			return err
		}
		if serr != nil {
			return fmt.Errorf("set TCP MD5 signature: %w", serr)
		}
		return nil
	}
}

// classifyConnect names a connect error.
func classifyConnect(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return connectRefused
	case errors.Is(err, syscall.ENETUNREACH):
		return connectNetUnreachable
	case errors.Is(err, syscall.EHOSTUNREACH):
		return connectHostUnreachable
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return connectProhibited
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return connectNoSource
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded),
		errors.As(err, &ne) && ne.Timeout():
		return connectTimeout
	}
	return connectError
}

// speakBGP sends the node's OPEN and reads the peer's first message.
func speakBGP(conn net.Conn, spec probeSpec, res *sessionProbe) {
	as2 := uint16(spec.LocalAS)
	if spec.LocalAS > 0xffff {
		as2 = bgp.AS_TRANS
	}
	rid := spec.RouterID
	if !rid.Is4() {
		rid = netip.AddrFrom4([4]byte{0, 0, 0, 1})
	}
	caps := []bgp.ParameterCapabilityInterface{
		bgp.NewCapMultiProtocol(bgp.RF_IPv4_UC),
		bgp.NewCapRouteRefresh(),
		bgp.NewCapFourOctetASNumber(spec.LocalAS),
	}
	open, err := bgp.NewBGPOpenMessage(as2, 90, rid, []bgp.OptionParameterInterface{bgp.NewOptionParameterCapability(caps)})
	if err == nil {
		var b []byte
		if b, err = open.Serialize(); err == nil {
			_, err = conn.Write(b)
		}
	}
	if err != nil {
		res.BGP = classifyRead(err)
		return
	}
	msg, err := readBGPMessage(conn)
	if err != nil {
		res.BGP = classifyRead(err)
		return
	}
	switch body := msg.Body.(type) {
	case *bgp.BGPNotification:
		res.BGP, res.Code, res.Subcode = bgpNotification, body.ErrorCode, body.ErrorSubcode
	case *bgp.BGPOpen:
		res.BGP, res.HoldTime, res.PeerID = bgpOpen, body.HoldTime, body.ID.String()
		res.PeerAS = uint32(body.MyAS)
		for _, p := range body.OptParams {
			if pc, ok := p.(*bgp.OptionParameterCapability); ok {
				for _, c := range pc.Capability {
					if c4, ok := c.(*bgp.CapFourOctetASNumber); ok {
						res.PeerAS = c4.CapValue
					}
				}
			}
		}
		// Close politely: Cease, administrative shutdown (6/2); it may
		// already have been answered with the peer's own NOTIFICATION.
		if m := bgp.NewBGPNotificationMessage(bgp.BGP_ERROR_CEASE, bgp.BGP_ERROR_SUB_ADMINISTRATIVE_SHUTDOWN, nil); m != nil {
			if b, err := m.Serialize(); err == nil {
				_, _ = conn.Write(b)
			}
		}
		// A NOTIFICATION right after the OPEN says what the peer thinks of ours.
		_ = conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		if next, err := readBGPMessage(conn); err == nil {
			if n, ok := next.Body.(*bgp.BGPNotification); ok {
				res.BGP, res.Code, res.Subcode = bgpNotification, n.ErrorCode, n.ErrorSubcode
			}
		}
	default:
		res.BGP = bgpOpen
	}
}

// readBGPMessage reads one BGP message.
func readBGPMessage(r io.Reader) (*bgp.BGPMessage, error) {
	hdr := make([]byte, bgp.BGP_HEADER_LENGTH)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, err
	}
	h := &bgp.BGPHeader{}
	if err := h.DecodeFromBytes(hdr); err != nil {
		return nil, fmt.Errorf("bgp header: %w", err)
	}
	if h.Len < bgp.BGP_HEADER_LENGTH || h.Len > bgp.BGP_MAX_MESSAGE_LENGTH {
		return nil, fmt.Errorf("bgp header: bad length %d", h.Len)
	}
	body := make([]byte, int(h.Len)-bgp.BGP_HEADER_LENGTH)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, err
	}
	return bgp.ParseBGPBody(h, body)
}

// classifyRead names why no BGP message arrived.
func classifyRead(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return bgpClosed
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return bgpReset
	case errors.As(err, &ne) && ne.Timeout():
		return bgpSilent
	}
	return bgpClosed
}

// Lines renders the probe as evidence lines.
func (p sessionProbe) Lines() []string {
	src := p.Source
	if src == "" {
		src = "(kernel's choice)"
	}
	md5 := ""
	if p.MD5 {
		md5 = " with the node's TCP MD5 password"
	}
	l := fmt.Sprintf("connect %s -> %s:179%s: %s", src, p.Peer, md5, p.Connect)
	if p.ConnectErr != "" {
		l += " (" + p.ConnectErr + ")"
	}
	out := []string{l + fmt.Sprintf(" after %s", p.Took.Round(time.Millisecond))}
	switch p.BGP {
	case bgpOpen:
		out = append(out, fmt.Sprintf("sent OPEN as the node; peer answered OPEN AS %d router id %s hold %d", p.PeerAS, p.PeerID, p.HoldTime))
	case bgpNotification:
		out = append(out, fmt.Sprintf("sent OPEN as the node; peer answered NOTIFICATION %d/%d %s", p.Code, p.Subcode, notificationName(p.Code, p.Subcode)))
	case bgpClosed:
		out = append(out, "sent OPEN as the node; peer closed the connection without a BGP message")
	case bgpReset:
		out = append(out, "sent OPEN as the node; peer reset the connection without a BGP message")
	case bgpSilent:
		out = append(out, "sent OPEN as the node; no BGP message arrived before the deadline")
	}
	return out
}

// notificationName names a NOTIFICATION code/subcode.
func notificationName(code, sub uint8) string {
	switch {
	case code == 2 && sub == 2:
		return "(OPEN message error: bad peer AS)"
	case code == 2 && sub == 3:
		return "(OPEN message error: bad BGP identifier)"
	case code == 2 && sub == 5:
		return "(OPEN message error: authentication failure)"
	case code == 2 && sub == 6:
		return "(OPEN message error: unacceptable hold time)"
	case code == 6:
		return "(cease)"
	}
	return fmt.Sprintf("(code %d subcode %d)", code, sub)
}
