package capture

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Label is the short name drawn on a ladder arrow, e.g. "OPEN" or
// "NOTIFICATION 6/2".
func (e *Event) Label() string {
	switch e.Kind {
	case KindSYNRetransmit:
		return "SYN (retx)"
	case KindICMPUnreachable:
		if e.ICMP != nil {
			return fmt.Sprintf("ICMP %d/%d", e.ICMP.Type, e.ICMP.Code)
		}
	case KindNotification:
		if e.Notification != nil {
			return fmt.Sprintf("NOTIFICATION %d/%d", e.Notification.Code, e.Notification.Subcode)
		}
	case KindUpdate:
		if e.Update != nil && e.Update.EndOfRIB {
			return "UPDATE (EoR)"
		}
	case KindElided:
		if e.Elided != nil {
			return fmt.Sprintf("%d ELIDED", e.Elided.Messages)
		}
	}
	return strings.ToUpper(e.Kind.String())
}

// Summary is a one-line human description of the event.
func (e *Event) Summary() string {
	var b strings.Builder
	switch e.Kind {
	case KindSYN, KindSYNRetransmit, KindSYNACK:
		b.WriteString(e.Label())
		if e.TCP != nil {
			fmt.Fprintf(&b, " seq=%d", e.TCP.Seq)
			if e.TCP.MD5 {
				b.WriteString(" with TCP MD5 option")
			}
		}
	case KindRST, KindFIN:
		b.WriteString(e.Label())
	case KindTCPMD5:
		b.WriteString("TCP MD5 signature option (kind 19) present")
	case KindICMPUnreachable:
		if i := e.ICMP; i != nil {
			proto := "ICMP"
			if i.V6 {
				proto = "ICMPv6"
			}
			fmt.Fprintf(&b, "%s destination unreachable %d/%d %s (reported by %s) for %s -> %s",
				proto, i.Type, i.Code, i.Reason, i.Reporter, e.To, e.From)
		}
	case KindOpen:
		if o := e.Open; o != nil {
			fmt.Fprintf(&b, "OPEN v%d AS %d hold %ds id %s", o.Version, o.AS(), o.HoldTime, o.RouterID)
			if o.AS4 != 0 && o.AS4 != uint32(o.MyAS) {
				fmt.Fprintf(&b, " (my-as field %d)", o.MyAS)
			}
			if len(o.Capabilities) > 0 {
				b.WriteString(" caps [" + strings.Join(o.Capabilities, " ") + "]")
			}
		}
	case KindKeepalive:
		b.WriteString("KEEPALIVE")
	case KindUpdate:
		writeUpdateSummary(&b, e.Update)
	case KindNotification:
		if n := e.Notification; n != nil {
			fmt.Fprintf(&b, "NOTIFICATION %d/%d %s", n.Code, n.Subcode, n.Name)
			if n.Communication != "" {
				b.WriteString(" " + strconv.Quote(n.Communication))
			} else if n.Data != "" {
				b.WriteString(" data=" + n.Data)
			}
		}
	case KindRouteRefresh:
		if r := e.RouteRefresh; r != nil {
			b.WriteString("ROUTE-REFRESH " + r.Family)
			switch r.Subtype {
			case 1:
				b.WriteString(" BoRR")
			case 2:
				b.WriteString(" EoRR")
			}
		}
	case KindGap:
		if g := e.Gap; g != nil {
			fmt.Fprintf(&b, "%s silent for %s (hold time %ds expired)", e.From.Addr(), g.Silence.Round(time.Millisecond), g.HoldTime)
		}
	case KindElided:
		if x := e.Elided; x != nil {
			fmt.Fprintf(&b, "%d messages not stored (%d UPDATE +%d -%d, %d KEEPALIVE) over %s",
				x.Messages, x.Updates, x.Announced, x.Withdrawn, x.Keepalives, x.Last.Sub(x.First).Round(time.Microsecond))
		}
	case KindMalformed:
		if m := e.Malformed; m != nil {
			fmt.Fprintf(&b, "MALFORMED at stream offset %d, %d bytes: %s [%s]", m.Offset, m.Length, m.Error, m.Bytes)
		}
	default:
		b.WriteString(e.Kind.String())
	}
	return b.String()
}

// writeUpdateSummary describes an UPDATE compactly.
func writeUpdateSummary(b *strings.Builder, u *UpdateInfo) {
	b.WriteString("UPDATE")
	if u == nil {
		return
	}
	if u.EndOfRIB {
		b.WriteString(" End-of-RIB " + u.Family)
		return
	}
	fmt.Fprintf(b, " +%d -%d", u.Announced, u.Withdrawn)
	if u.Family != "" {
		b.WriteString(" " + u.Family)
	}
	if u.NextHop.IsValid() {
		b.WriteString(" nh " + u.NextHop.String())
	}
	if u.ASPathText != "" {
		b.WriteString(" path [" + u.ASPathText + "]")
	}
	if len(u.Communities) > 0 {
		b.WriteString(" comm [" + strings.Join(u.Communities, " ") + "]")
	}
	if u.OriginatorID.IsValid() {
		b.WriteString(" originator " + u.OriginatorID.String())
	}
	if len(u.ClusterList) > 0 {
		b.WriteString(" cluster-list [")
		for i, c := range u.ClusterList {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(c.String())
		}
		b.WriteByte(']')
	}
	writePrefixes(b, " announce", u.FirstAnnounced, u.Announced)
	writePrefixes(b, " withdraw", u.FirstWithdrawn, u.Withdrawn)
}

func writePrefixes(b *strings.Builder, label string, first []netip.Prefix, total int) {
	if len(first) == 0 {
		return
	}
	b.WriteString(label)
	for _, p := range first {
		b.WriteString(" " + p.String())
	}
	if total > len(first) {
		fmt.Fprintf(b, " (+%d more)", total-len(first))
	}
}

// eventJSON is Event with its summary, as written by the JSON renderer.
type eventJSON struct {
	eventAlias
	Summary string `json:"summary"`
}

type eventAlias Event

// MarshalJSON encodes the event with its summary text.
func (e Event) MarshalJSON() ([]byte, error) {
	return json.Marshal(eventJSON{eventAlias: eventAlias(e), Summary: e.Summary()})
}
