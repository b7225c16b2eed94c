package capture

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/osrg/gobgp/v4/pkg/packet/bgp"
)

// maxHexBytes bounds hex dumps of NOTIFICATION data and malformed bytes.
const maxHexBytes = 64

// BGP message type codes.
const (
	msgOpen         = 1
	msgUpdate       = 2
	msgNotification = 3
	msgKeepalive    = 4
	msgRouteRefresh = 5
)

// messageDecoder fills an event from one framed BGP message.
type messageDecoder struct {
	updates      *updateScanner
	gobgpUpdates bool
}

// decode sets ev.Kind and its detail from msg (a whole message, header
// included). It never panics: a panic inside a parser is returned as an
// error, and the caller reports the message as malformed.
func (d *messageDecoder) decode(msg []byte, as4 int, pathIDs pathIDFamilies, ev *Event) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("bgp: parser panic: %v", r)
		}
	}()
	if len(msg) < bgpHeaderLen {
		return ErrTruncated
	}
	switch msg[18] {
	case msgKeepalive:
		if len(msg) != bgpHeaderLen {
			return fmt.Errorf("bgp: KEEPALIVE of length %d", len(msg))
		}
		ev.Kind = KindKeepalive
		return nil
	case msgUpdate:
		info, err := d.update(msg, as4, pathIDs)
		if err != nil {
			return err
		}
		ev.Kind, ev.Update = KindUpdate, info
		return nil
	case msgOpen, msgNotification, msgRouteRefresh:
	default:
		return fmt.Errorf("bgp: unknown message type %d", msg[18])
	}
	m, err := bgp.ParseBGPMessage(msg)
	if err != nil {
		return err
	}
	switch b := m.Body.(type) {
	case *bgp.BGPOpen:
		ev.Kind, ev.Open = KindOpen, openInfo(b)
	case *bgp.BGPNotification:
		ev.Kind, ev.Notification = KindNotification, notificationInfo(b)
	case *bgp.BGPRouteRefresh:
		ev.Kind = KindRouteRefresh
		ev.RouteRefresh = &RouteRefreshInfo{Family: bgp.NewFamily(b.AFI, b.SAFI).String(), Subtype: b.Demarcation}
	default:
		return fmt.Errorf("bgp: unexpected body %T", m.Body)
	}
	return nil
}

// update uses the allocation-light scanner, falling back to GoBGP's parser
// for families the scanner does not know and for its error text.
func (d *messageDecoder) update(msg []byte, as4 int, pathIDs pathIDFamilies) (*UpdateInfo, error) {
	opt := pathIDs.marshallingOption()
	if !d.gobgpUpdates {
		info, err := d.updates.scan(msg[bgpHeaderLen:], as4, pathIDs)
		if err == nil {
			return info, nil
		}
		if !errors.Is(err, errUnknownFamily) {
			if _, gerr := bgp.ParseBGPMessage(msg, opt); gerr != nil {
				return nil, gerr
			}
			return nil, err
		}
	}
	m, err := bgp.ParseBGPMessage(msg, opt)
	if err != nil {
		return nil, err
	}
	u, ok := m.Body.(*bgp.BGPUpdate)
	if !ok {
		return nil, fmt.Errorf("bgp: unexpected body %T", m.Body)
	}
	return updateInfoFromGoBGP(u), nil
}

// openInfo converts a GoBGP OPEN body.
func openInfo(o *bgp.BGPOpen) *OpenInfo {
	info := &OpenInfo{Version: o.Version, MyAS: o.MyAS, HoldTime: o.HoldTime, RouterID: o.ID}
	for _, p := range o.OptParams {
		pc, ok := p.(*bgp.OptionParameterCapability)
		if !ok {
			continue
		}
		for _, c := range pc.Capability {
			switch v := c.(type) {
			case *bgp.CapFourOctetASNumber:
				info.AS4 = v.CapValue
				info.Capabilities = append(info.Capabilities, "4-octet-as")
			case *bgp.CapMultiProtocol:
				info.Capabilities = append(info.Capabilities, "multiprotocol("+v.CapValue.String()+")")
			case *bgp.CapAddPath:
				info.Capabilities = append(info.Capabilities, addPathCapability(v))
				for _, t := range v.Tuples {
					info.addPath = append(info.addPath, *t)
				}
			default:
				info.Capabilities = append(info.Capabilities, c.Code().String())
			}
		}
	}
	return info
}

// notificationInfo converts a GoBGP NOTIFICATION body, decoding the RFC
// 8203/9003 shutdown communication of Cease subcodes 2 and 4.
func notificationInfo(n *bgp.BGPNotification) *NotificationInfo {
	info := &NotificationInfo{
		Code: n.ErrorCode, Subcode: n.ErrorSubcode,
		Name: NotificationName(n.ErrorCode, n.ErrorSubcode),
		Data: hexTruncated(n.Data),
	}
	if n.ErrorCode == bgp.BGP_ERROR_CEASE && len(n.Data) > 0 &&
		(n.ErrorSubcode == bgp.BGP_ERROR_SUB_ADMINISTRATIVE_SHUTDOWN || n.ErrorSubcode == bgp.BGP_ERROR_SUB_ADMINISTRATIVE_RESET) {
		l := int(n.Data[0])
		text := n.Data[1:]
		if l < len(text) {
			text = text[:l]
		}
		info.Communication = strings.ToValidUTF8(string(text), string(utf8.RuneError))
	}
	return info
}

// hexTruncated returns the hex of at most maxHexBytes bytes, with "..."
// when cut.
func hexTruncated(b []byte) string {
	if len(b) <= maxHexBytes {
		return hex.EncodeToString(b)
	}
	return hex.EncodeToString(b[:maxHexBytes]) + "..."
}
