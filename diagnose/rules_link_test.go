package diagnose

import "testing"

func TestIPAddrLinkDown(t *testing.T) {
	cases := []struct {
		name, text string
		down       bool
	}{
		{"up", "2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 state UP\n    inet 10.0.0.1/24 scope global eth0\n", false},
		{"admin down", "2: eth0: <BROADCAST,MULTICAST> mtu 1500 state DOWN\n    inet 10.0.0.1/24 scope global eth0\n", true},
		{"no carrier", "2: eth0: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 state DOWN\n    inet 10.0.0.1/24 scope global eth0\n", true},
		{"brief down", "eth0             DOWN           10.0.0.1/24\n", true},
		{"brief up", "eth0             UP             10.0.0.1/24\n", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obs, _, ok := (ipAddr{}).Recognize("ip.txt", []byte(tc.text))
			if !ok || len(obs.Interfaces) != 1 {
				t.Fatalf("not recognised: %+v", obs)
			}
			if obs.Interfaces[0].Down != tc.down {
				t.Errorf("Down = %v, want %v", obs.Interfaces[0].Down, tc.down)
			}
		})
	}
}

// TestLinkDownExplainsHoldTimer: with the peer's link down, the hold
// timer is a consequence (low) and no-route-to-peer the cause (high).
func TestLinkDownExplainsHoldTimer(t *testing.T) {
	for _, linkUp := range []bool{false, true} {
		flags := "<BROADCAST,MULTICAST> mtu 1500 state DOWN"
		if linkUp {
			flags = "<BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 state UP"
		}
		rep := Diagnose(clusterOf(t, map[string]string{
			"n/bird.cfg": "router id 10.0.0.1;\nprotocol bgp Node_10_0_0_2 {\n  local 10.0.0.1 as 64512;\n  neighbor 10.0.0.2 as 64512;\n}\n",
			"n/status":   "Node_10_0_0_2 BGP      master   start  02:38:18    Active        BGP Error: Hold timer expired\n",
			"p/bird.cfg": "router id 10.0.0.2;\nprotocol bgp Node_10_0_0_1 {\n  local 10.0.0.2 as 64512;\n  neighbor 10.0.0.1 as 64512;\n}\n",
			"p/ip-addr":  "2: eth0: " + flags + "\n    inet 10.0.0.2/24 scope global eth0\n",
			"n/ip-addr":  "2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 state UP\n    inet 10.0.0.1/24 scope global eth0\n",
		}))
		want, conf := CauseNoRouteToPeer, High
		if linkUp {
			want = CauseHoldTimerExpired
		}
		if len(rep.Findings) == 0 || rep.Findings[0].Cause != want || rep.Findings[0].Confidence != conf {
			t.Fatalf("link up=%v: findings %v, want %s/%s first", linkUp, got(rep.Findings), want, conf)
		}
	}
}

func TestExpectationCheck(t *testing.T) {
	low := expectation{Causes: []Cause{CauseTCP179Dropped, CauseUnknown}, MaxConfidence: Low}
	cases := []struct {
		name string
		e    expectation
		top  Finding
		ok   bool
	}{
		{"exact", expectation{Cause: CauseASMismatch, Confidence: "high"}, Finding{Cause: CauseASMismatch, Confidence: High}, true},
		{"exact wrong confidence", expectation{Cause: CauseASMismatch, Confidence: "high"}, Finding{Cause: CauseASMismatch, Confidence: Medium}, false},
		{"set, low", low, Finding{Cause: CauseTCP179Dropped, Confidence: Low}, true},
		{"set, too confident", low, Finding{Cause: CauseTCP179Dropped, Confidence: Medium}, false},
		{"outside the set", low, Finding{Cause: CausePeerBirdUnconfigured, Confidence: Low}, false},
	}
	for _, tc := range cases {
		if got := tc.e.check(tc.top) == ""; got != tc.ok {
			t.Errorf("%s: ok = %v, want %v", tc.name, got, tc.ok)
		}
	}
}
