package speaker

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/osrg/gobgp/v4/api"
	"github.com/osrg/gobgp/v4/pkg/apiutil"
)

func TestNotificationName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code, sub uint8
		want      string
	}{
		{2, 2, "OPEN Message Error / Bad Peer AS"},
		{2, 6, "OPEN Message Error / Unacceptable Hold Time"},
		{1, 2, "Message Header Error / Bad Message Length"},
		{3, 11, "UPDATE Message Error / Malformed AS_PATH"},
		{4, 0, "Hold Timer Expired"},
		{5, 2, "Finite State Machine Error / Receive Unexpected Message in OpenConfirm State"},
		{6, 2, "Cease / Administrative Shutdown"},
		{6, 4, "Cease / Administrative Reset"},
		{6, 15, "Cease / Subcode 15"},
		{9, 1, "Error Code 9 / Subcode 1"},
	}
	for _, tc := range tests {
		if got := NotificationName(tc.code, tc.sub); got != tc.want {
			t.Errorf("NotificationName(%d, %d) = %q, want %q", tc.code, tc.sub, got, tc.want)
		}
	}
}

func TestParseDisconnectMessage(t *testing.T) {
	t.Parallel()
	names := newNotificationNames()
	if len(names.byGoBGP) != 7*16 {
		t.Fatalf("reverse table has %d entries, want %d (codes collide?)", len(names.byGoBGP), 7*16)
	}
	tests := []struct {
		msg  string
		want *Notification
	}{
		{"notification-received code 2(open) subcode 2(bad peer as)", &Notification{Code: 2, Subcode: 2, Name: "OPEN Message Error / Bad Peer AS"}},
		{"notification-sent code 4(hold timer expired) subcode 0(undefined)", &Notification{Code: 4, Name: "Hold Timer Expired", Sent: true}},
		{"notification-sent code 6(cease) subcode 4(administrative reset)", &Notification{Code: 6, Subcode: 4, Name: "Cease / Administrative Reset", Sent: true}},
		{"notification-received code 9(undefined) subcode 3(undefined)", &Notification{Code: 9, Subcode: 3, Name: "Error Code 9 / Subcode 3"}},
		{"hold-timer-expired", nil},
		{"read-failed", nil},
		{"notification-received garbage", nil},
	}
	for _, tc := range tests {
		got := names.parse(tc.msg)
		switch {
		case got == nil && tc.want == nil:
		case got == nil || tc.want == nil || *got != *tc.want:
			t.Errorf("parse(%q) = %+v, want %+v", tc.msg, got, tc.want)
		}
	}
}

func TestDownCause(t *testing.T) {
	t.Parallel()
	s := &Speaker{names: newNotificationNames()}
	tests := []struct {
		name       string
		state      peerStateInput
		wantReason string
		wantNotif  *Notification
	}{
		{"idle timer is no failure", peerStateInput{api.PeerState_DISCONNECT_REASON_IDLE_TIMER_EXPIRED, "idle-hold-timer-expired"}, "", nil},
		{"new connection is no failure", peerStateInput{api.PeerState_DISCONNECT_REASON_UNSPECIFIED, "new-connection"}, "", nil},
		{"bad peer as detected here", peerStateInput{api.PeerState_DISCONNECT_REASON_BAD_PEER_AS, "bad-peer-as"},
			"notification-sent code 2(open) subcode 2(bad peer as)", &Notification{Code: 2, Subcode: 2, Name: "OPEN Message Error / Bad Peer AS", Sent: true}},
		{"hold timer", peerStateInput{api.PeerState_DISCONNECT_REASON_HOLD_TIMER_EXPIRED, "hold-timer-expired"}, "hold-timer-expired", nil},
		{"received cease", peerStateInput{api.PeerState_DISCONNECT_REASON_NOTIFICATION_RECEIVED, "notification-received code 6(cease) subcode 3(peer deconfigured)"},
			"notification-received code 6(cease) subcode 3(peer deconfigured)", &Notification{Code: 6, Subcode: 3, Name: "Cease / Peer De-configured"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := s.downCauseOf(tc.state.toAPI())
			if tc.wantReason == "" {
				if got != nil {
					t.Fatalf("downCauseOf = %+v, want nil", got)
				}
				return
			}
			if got == nil || got.reason != tc.wantReason {
				t.Fatalf("downCauseOf = %+v, want reason %q", got, tc.wantReason)
			}
			if (got.notification == nil) != (tc.wantNotif == nil) || (got.notification != nil && *got.notification != *tc.wantNotif) {
				t.Errorf("notification = %+v, want %+v", got.notification, tc.wantNotif)
			}
		})
	}
}

func TestCommunities(t *testing.T) {
	t.Parallel()
	for _, c := range []string{"0:0", "64512:100", "65535:65535"} {
		v, err := ParseCommunity(c)
		if err != nil {
			t.Fatalf("ParseCommunity(%q): %v", c, err)
		}
		if got := FormatCommunity(v); got != c {
			t.Errorf("round trip of %q = %q", c, got)
		}
	}
	for _, bad := range []string{"", "100", "65536:1", "1:65536", "a:b", "-1:2"} {
		if _, err := ParseCommunity(bad); err == nil {
			t.Errorf("ParseCommunity(%q) succeeded, want an error", bad)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	ok := Config{Name: "x", ASN: 1, RouterID: netip.MustParseAddr("10.0.0.1"), ListenAddress: netip.MustParseAddr("127.0.0.1")}
	tests := []struct {
		name    string
		mutate  func(*Config)
		wantErr string
	}{
		{"valid", func(*Config) {}, ""},
		{"no listener needs no address", func(c *Config) { c.ListenAddress = netip.Addr{}; c.ListenPort = -1 }, ""},
		{"asn 0", func(c *Config) { c.ASN = 0 }, "asn"},
		{"ipv6 router id", func(c *Config) { c.RouterID = netip.MustParseAddr("::1") }, "router-id"},
		{"missing router id", func(c *Config) { c.RouterID = netip.Addr{} }, "router-id"},
		{"port too big", func(c *Config) { c.ListenPort = 70000 }, "listen-port"},
		{"listener without address", func(c *Config) { c.ListenAddress = netip.Addr{} }, "listen-address"},
		{"ipv6 cluster id", func(c *Config) { c.ClusterID = netip.MustParseAddr("::2") }, "cluster-id"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.mutate(&c)
			_, err := New(c)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("New: err = %v, want it to mention %q", err, tc.wantErr)
			}
		})
	}
}

func TestAPIPeer(t *testing.T) {
	t.Parallel()
	s := &Speaker{cfg: Config{ASN: 64512, RouterID: netip.MustParseAddr("10.0.0.1"), ListenAddress: netip.MustParseAddr("127.0.0.1"),
		Families: []Family{IPv4Unicast, IPv6Unicast}}}
	p := PeerConfig{
		Name: "n", Address: netip.MustParseAddr("127.0.0.2"), ASN: 64513, Password: "pw", Passive: true,
		RouteReflectorClient: true, Multihop: 3, TTLSecurity: 254,
		Timers:   Timers{Hold: 9 * time.Second, Keepalive: 3 * time.Second, ConnectRetry: 2 * time.Second},
		Families: []Family{IPv4Unicast, IPv6Unicast, IPv4Unicast},
	}
	ap, err := s.apiPeer(p)
	if err != nil {
		t.Fatalf("apiPeer: %v", err)
	}
	checks := []struct {
		what      string
		got, want any
	}{
		{"neighbor", ap.Conf.NeighborAddress, "127.0.0.2"},
		{"peer asn", ap.Conf.PeerAsn, uint32(64513)},
		{"password", ap.Conf.AuthPassword, "pw"},
		{"local address defaults to the listen address", ap.Transport.LocalAddress, "127.0.0.1"},
		{"remote port defaults to 179", ap.Transport.RemotePort, uint32(179)},
		{"passive", ap.Transport.PassiveMode, true},
		{"hold", ap.Timers.Config.HoldTime, uint64(9)},
		{"keepalive", ap.Timers.Config.KeepaliveInterval, uint64(3)},
		{"connect retry", ap.Timers.Config.ConnectRetry, uint64(2)},
		{"idle hold after reset", ap.Timers.Config.IdleHoldTimeAfterReset, uint64(1)},
		{"rr client", ap.RouteReflector.RouteReflectorClient, true},
		{"cluster id defaults to the router id", ap.RouteReflector.RouteReflectorClusterId, "10.0.0.1"},
		{"multihop", ap.EbgpMultihop.MultihopTtl, uint32(3)},
		{"ttl security", ap.TtlSecurity.TtlMin, uint32(254)},
		{"families (deduplicated)", len(ap.AfiSafis), 2},
		{"second family", ap.AfiSafis[1].Config.Family.Afi, api.Family_AFI_IP6},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
	bad := []struct {
		name   string
		mutate func(*PeerConfig)
	}{
		{"no address", func(p *PeerConfig) { p.Address = netip.Addr{} }},
		{"asn 0", func(p *PeerConfig) { p.ASN = 0 }},
		{"sub-second timer", func(p *PeerConfig) { p.Timers.Hold = 500 * time.Millisecond }},
		{"hold below 3s", func(p *PeerConfig) { p.Timers.Hold = 2 * time.Second }},
		{"unknown family", func(p *PeerConfig) { p.Families = []Family{"l2vpn-evpn"} }},
		{"bad port", func(p *PeerConfig) { p.Port = 70000 }},
	}
	for _, tc := range bad {
		q := p
		tc.mutate(&q)
		if _, err := s.apiPeer(q); err == nil {
			t.Errorf("%s: apiPeer succeeded, want an error", tc.name)
		}
	}
}

// peerStateInput is the part of a GoBGP peer state that downCauseOf reads.
type peerStateInput struct {
	reason api.PeerState_DisconnectReason
	msg    string
}

func (p peerStateInput) toAPI() apiutil.PeerState {
	return apiutil.PeerState{DisconnectReason: p.reason, DisconnectMessage: p.msg}
}

func TestAPIPeerRefusesFamiliesTheSpeakerLacks(t *testing.T) {
	t.Parallel()
	s := &Speaker{cfg: Config{ASN: 64512, RouterID: netip.MustParseAddr("10.0.0.1"), ListenAddress: netip.MustParseAddr("127.0.0.1")}}
	_, err := s.apiPeer(PeerConfig{Address: netip.MustParseAddr("127.0.0.2"), ASN: 64513, Families: []Family{IPv6Unicast}})
	if err == nil || !strings.Contains(err.Error(), `"ipv6-unicast" is not among`) {
		t.Fatalf("err = %v, want the missing family named", err)
	}
}
