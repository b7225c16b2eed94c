package capture

import "fmt"

// Kind is the type of a timeline event.
type Kind uint8

// Event kinds. Their text forms are stable: tools match on them.
const (
	KindSYN Kind = iota + 1
	KindSYNRetransmit
	KindSYNACK
	KindRST
	KindFIN
	KindICMPUnreachable
	KindTCPMD5
	KindOpen
	KindKeepalive
	KindUpdate
	KindNotification
	KindRouteRefresh
	KindGap
	KindMalformed
	// KindElided stands for a run of UPDATE and KEEPALIVE messages that
	// the timeline counts but does not store (see DecodeOptions.Sample).
	KindElided
)

var kindNames = [...]string{
	KindSYN:             "syn",
	KindSYNRetransmit:   "syn-retransmit",
	KindSYNACK:          "syn-ack",
	KindRST:             "rst",
	KindFIN:             "fin",
	KindICMPUnreachable: "icmp-unreachable",
	KindTCPMD5:          "tcp-md5",
	KindOpen:            "open",
	KindKeepalive:       "keepalive",
	KindUpdate:          "update",
	KindNotification:    "notification",
	KindRouteRefresh:    "route-refresh",
	KindGap:             "gap",
	KindMalformed:       "malformed",
	KindElided:          "elided",
}

// String returns the stable name of the kind, e.g. "syn-ack".
func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// MarshalText encodes the kind as its stable name.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText parses a stable kind name.
func (k *Kind) UnmarshalText(b []byte) error {
	for i, n := range kindNames {
		if n != "" && n == string(b) {
			*k = Kind(i)
			return nil
		}
	}
	return fmt.Errorf("capture: unknown event kind %q", b)
}

// IsBGP reports whether the kind is a BGP message (malformed included).
func (k Kind) IsBGP() bool {
	switch k {
	case KindOpen, KindKeepalive, KindUpdate, KindNotification, KindRouteRefresh, KindMalformed:
		return true
	}
	return false
}
