package diagnose

import (
	"fmt"
	"slices"
	"testing"
)

// timerCfg is a minimal Calico-style bird.cfg of the node at .self
// peering with .peer, with tmpl inside the bgp template and proto inside
// the protocol.
func timerCfg(self, peer int, tmpl, proto string) string {
	return fmt.Sprintf(`router id 10.0.0.%d;
template bgp bgp_template {
  local as 64512;
%s
}
protocol bgp Mesh_10_0_0_%d from bgp_template {
  neighbor 10.0.0.%d as 64512;
  source address 10.0.0.%d;
%s
}
`, self, tmpl, peer, peer, self, proto)
}

func TestRuleBadTimers(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"keepalive above hold (the hold-time-too-low exercise)", map[string]string{
			"node1/bird.cfg": timerCfg(1, 2, "  hold time 9;\n  keepalive time 3;", ""),
			"node2/bird.cfg": timerCfg(2, 1, "  hold time 3;\n  keepalive time 10;", ""),
		}, []string{"bad-timers/medium/node1/10.0.0.2", "bad-timers/high/node2/10.0.0.1"}},
		{"keepalive equal to hold, set in the protocol", map[string]string{
			"node1/bird.cfg": timerCfg(1, 2, "", "  hold time 6;\n  keepalive time 6;"),
		}, []string{"bad-timers/high/node1/10.0.0.2"}},
		{"hold time below 3", map[string]string{
			"node1/bird.cfg": timerCfg(1, 2, "  hold time 2;", ""),
		}, []string{"bad-timers/high/node1/10.0.0.2"}},
		{"hold time 0 disables keepalives: fine", map[string]string{
			"node1/bird.cfg": timerCfg(1, 2, "  hold time 0;\n  keepalive time 0;", ""),
		}, nil},
		{"keepalive above BIRD's default hold only: fine below 240", map[string]string{
			"node1/bird.cfg": timerCfg(1, 2, "  keepalive time 30;", ""),
		}, nil},
		{"usual timers", map[string]string{
			"node1/bird.cfg": timerCfg(1, 2, "  hold time 9;\n  keepalive time 3;", ""),
			"node2/bird.cfg": timerCfg(2, 1, "  hold time 9;\n  keepalive time 3;", ""),
		}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := got(ruleBadTimers(clusterOf(t, tc.files)))
			if !slices.Equal(g, tc.want) {
				t.Errorf("got %v, want %v", g, tc.want)
			}
		})
	}
}

// TestBadTimersOutrankHoldTimer: with node2's timers broken, node1's
// "Hold timer expired" is the symptom and the timers the cause.
func TestBadTimersOutrankHoldTimer(t *testing.T) {
	c := clusterOf(t, map[string]string{
		"node1/bird.cfg": timerCfg(1, 2, "  hold time 9;\n  keepalive time 3;", ""),
		"node1/p":        hdr16 + "Mesh_10_0_0_2 BGP master start 09:00:01 Active Error: Hold timer expired\n",
		"node2/bird.cfg": timerCfg(2, 1, "  hold time 3;\n  keepalive time 10;", ""),
	})
	rep := Diagnose(c)
	if topCause(rep) != CauseBadTimers || rep.Findings[0].Node != "node2" {
		t.Fatalf("top finding %v, want bad-timers on node2", got(rep.Findings))
	}
	for _, f := range rep.Findings {
		if f.Cause == CauseHoldTimerExpired && f.Confidence != Low {
			t.Errorf("hold-timer-expired at %s, want low: the timers explain it", f.Confidence)
		}
	}
}

// TestBirdConfigTimers: both BIRD versions' timer statements are read,
// the protocol's overriding the template's.
func TestBirdConfigTimers(t *testing.T) {
	obs, _, ok := (birdConfig{}).Recognize("x", []byte(timerCfg(1, 2, "  hold time 9;\n  keepalive time 3;", "  keepalive time 4;")))
	if !ok || len(obs.BirdConfigs) != 1 || len(obs.BirdConfigs[0].Peers) != 1 {
		t.Fatal("not recognised")
	}
	cfg := obs.BirdConfigs[0]
	p := cfg.Peers[0]
	if cfg.HoldTime != 9 || cfg.KeepaliveTime != 3 || p.HoldTime != 9 || p.KeepaliveTime != 4 {
		t.Errorf("template %d/%d, peer %d/%d; want 9/3 and 9/4", cfg.HoldTime, cfg.KeepaliveTime, p.HoldTime, p.KeepaliveTime)
	}
	if p.KeepaliveLine.Text != "keepalive time 4;" {
		t.Errorf("keepalive line %q", p.KeepaliveLine.Text)
	}
}
