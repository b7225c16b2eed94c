package diagnose

import (
	"strconv"
	"strings"

	"github.com/peerlab/peerlab/internal/lazy"
)

// routerLog recognises what BGP speakers that are not Calico nodes (a ToR
// switch or an external route reflector named in a BGPPeer) log about
// NOTIFICATIONs and TCP MD5:
//
//	*Dec  3 02:08:59.528: %BGP-3-NOTIFICATION: sent to neighbor 10.12.1.1 passive 2/2 (peer in wrong AS) 2 bytes FF78   (Cisco IOS)
//	Bgp: %BGP-3-NOTIFICATION: received from neighbor 10.0.0.4 (VRF default AS 65000) 6/2 (Cease/administrative shutdown) reason:   (Arista EOS)
//	bgpd[812]: %NOTIFICATION: received from neighbor 10.0.0.2 4/0 (Hold Timer Expired) 0 bytes   (FRR)
//	rpd[1234]: bgp_read_v4_message: NOTIFICATION received from 10.0.0.1 (External AS 65001): code 2 (Open Message Error) subcode 2 (bad peer AS number)   (Junos)
//	level=info msg="Peer Down" Key=10.0.0.1 Reason="notification-received code 4(hold timer expired) subcode 0(undefined)"   (GoBGP)
//	{"error":"got BGP notification code 0x0203 (Bad BGP identifier)","msg":"peer sent notification, closing session","peer":"10.96.0.100:179"}   (MetalLB)
//	bgpd[18700]: level=warning msg="failed to set md5: cannot allocate memory" Key=210.171.225.146 Topic=Peer   (GoBGP)
//	%TCP-6-BADAUTH: No MD5 digest from 10.0.0.1(179) to 10.0.0.2(34567)   (Cisco)
//	read OPEN from \"10.1.105.1:179\": message type is not OPEN, got 3, want 1   (MetalLB: a NOTIFICATION, code not logged)
type routerLog struct{}

func (routerLog) Kind() string { return "router-log" }
func (routerLog) Whole() bool  { return false }

var (
	notifWordRE  = lazy.Regexp(`NOTIFICATION|BGP_NOTIFICATION|notification-(?:received|sent)|(?:sent|received|got BGP) notification`)
	notifHexRE   = lazy.Regexp(`(?i)code 0x([0-9a-f]{2})([0-9a-f]{2})\b`)
	notifCodeRE  = lazy.Regexp(`(?:^|[\s(])([1-7])/(\d{1,2})(?:[\s)]|$)`)
	notifCode2RE = lazy.Regexp(`(?i)code:? ?(\d{1,2})\b.*?subcode:? ?(\d{1,3})\b`)
	neighborRE   = lazy.Regexp(`(?i)(?:\bneighbou?r|\bpeer|\bfrom|\bto|\bKey=|"Key":\s*"|"peer":\s*"|\baddr(?:ess)?=)\s*\\?"?\[?([0-9A-Fa-f]{1,4}(?:[.:][0-9A-Fa-f]{0,4}){2,7})`)
	// notOpenRE is a speaker reading another message where the peer's
	// OPEN should be (MetalLB: "read OPEN from \"10.1.105.1:179\":
	// message type is not OPEN, got 3, want 1"); type 3 is a NOTIFICATION.
	notOpenRE = lazy.Regexp(`(?i)message type is not OPEN, got (\d)`)
	md5SetRE  = lazy.Regexp(`(?i)(failed to set md5|cannot set md5|can't set TCP_MD5SIG|set TCP_MD5SIG option)`)
	badAuthRE = lazy.Regexp(`(?i)(no|invalid|missing|bad) MD5 digest from ([0-9A-Fa-f.:]+?)[(:]`)
)

// notifTexts map reasons routers print to NOTIFICATION codes, for lines
// that give no numbers.
var notifTexts = []struct {
	text          string
	code, subcode uint8
}{
	{"peer in wrong as", 2, 2}, {"bad peer as", 2, 2}, {"bad as number", 2, 2}, {"bad peer-as", 2, 2},
	{"bgp identifier wrong", 2, 3}, {"bad bgp identifier", 2, 3}, {"bad router id", 2, 3},
	{"unacceptable hold time", 2, 6}, {"authentication failure", 2, 5},
	{"hold time expired", 4, 0}, {"hold timer expired", 4, 0},
}

func (routerLog) Recognize(source string, data []byte) (Observations, []string, bool) {
	var (
		obs   Observations
		lines []string
	)
	for _, t := range logLines(data) {
		ev, ok := parseRouterLine(t)
		if !ok {
			continue
		}
		ev.Line = Line{source, t}
		obs.RouterEvents = append(obs.RouterEvents, ev)
		lines = append(lines, t)
	}
	return obs, lines, len(lines) > 0
}

// parseRouterLine reads one router log line about a NOTIFICATION or a TCP
// MD5 failure.
func parseRouterLine(t string) (RouterEvent, bool) {
	var ev RouterEvent
	if m := badAuthRE().FindStringSubmatch(t); m != nil {
		a, ok := parseAddr(m[2])
		if !ok {
			return ev, false
		}
		ev.Neighbor = a.String()
		ev.MD5 = "mismatch"
		if strings.EqualFold(m[1], "no") || strings.EqualFold(m[1], "missing") {
			ev.MD5 = "missing"
		}
		ev.Text = m[0]
		return ev, true
	}
	if md5SetRE().MatchString(t) {
		if m := neighborRE().FindStringSubmatch(t); m != nil {
			if a, ok := parseAddr(hostOf(m[1])); ok {
				ev.Neighbor = a.String()
			}
		}
		ev.MD5, ev.Text = "setfail", t
		return ev, true
	}
	if m := notOpenRE().FindStringSubmatch(t); m != nil && m[1] == "3" {
		if n := neighborRE().FindStringSubmatch(t); n != nil {
			if a, ok := parseAddr(hostOf(n[1])); ok {
				ev.Neighbor = a.String()
			}
		}
		ev.Text = "a NOTIFICATION (code not logged) came where the peer's OPEN was expected"
		return ev, ev.Neighbor != ""
	}
	loc := notifWordRE().FindStringIndex(t)
	if loc == nil {
		return ev, false
	}
	rest := t[loc[0]:]
	low := strings.ToLower(t)
	switch {
	case strings.Contains(low, "sent to"), strings.Contains(low, "sending"), strings.Contains(low, "notification-sent"),
		strings.Contains(low, "sent notification"), strings.Contains(low, "notification sent"):
		ev.Sent = true
	case strings.Contains(low, "received from"), strings.Contains(low, "notification-received"),
		strings.Contains(low, "received notification"), strings.Contains(low, "notification received"), strings.Contains(low, "rcvd"):
	default:
		return ev, false
	}
	if m := neighborRE().FindStringSubmatch(t[strings.LastIndex(t[:loc[0]], "{")+1:]); m != nil && strings.HasPrefix(t, "{") {
		if a, ok := parseAddr(hostOf(m[1])); ok {
			ev.Neighbor = a.String()
		}
	} else if m := neighborRE().FindStringSubmatch(rest); m != nil {
		if a, ok := parseAddr(m[1]); ok {
			ev.Neighbor = a.String()
		}
	} else if m := neighborRE().FindStringSubmatch(t); m != nil {
		if a, ok := parseAddr(m[1]); ok {
			ev.Neighbor = a.String()
		}
	}
	if m := notifCodeRE().FindStringSubmatch(rest); m != nil {
		ev.Code, ev.Subcode, ev.HasCode = atou8(m[1]), atou8(m[2]), true
	} else if m := notifHexRE().FindStringSubmatch(t); m != nil {
		c, _ := strconv.ParseUint(m[1], 16, 8)
		sc, _ := strconv.ParseUint(m[2], 16, 8)
		ev.Code, ev.Subcode, ev.HasCode = uint8(c), uint8(sc), true
	} else if m := notifCode2RE().FindStringSubmatch(rest); m != nil {
		ev.Code, ev.Subcode, ev.HasCode = atou8(m[1]), atou8(m[2]), true
	}
	lrest := strings.ToLower(rest)
	for _, nt := range notifTexts {
		if strings.Contains(lrest, nt.text) {
			ev.Text = nt.text
			if !ev.HasCode {
				ev.Code, ev.Subcode, ev.HasCode = nt.code, nt.subcode, true
			}
			break
		}
	}
	return ev, ev.HasCode || ev.Neighbor != ""
}

func atou8(s string) uint8 {
	n, err := strconv.ParseUint(s, 10, 8)
	if err != nil {
		return 0
	}
	return uint8(n)
}
