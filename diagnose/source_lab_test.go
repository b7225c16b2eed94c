package diagnose

import "testing"

// TestLabKindTarget: router kinds get no BIRD or Calico paths (so they are
// never read as a Calico node without BIRD); a gobgp node is read through
// its agent; BIRD kinds keep their files.
func TestLabKindTarget(t *testing.T) {
	tests := []struct {
		kind         string
		router, bird bool
		reader       bool
	}{
		{"bird", false, true, false},
		{"bird2", false, true, false},
		{"gobgp", true, false, true},
		{"injector", true, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.kind, func(t *testing.T) {
			tg := labKindTarget("/run/peerlab", "l", "n", tc.kind)
			if IsRouterKind(tc.kind) != tc.router {
				t.Errorf("IsRouterKind = %v, want %v", !tc.router, tc.router)
			}
			if got := len(tg.BirdSockets) > 0 && len(tg.BirdConfigs) > 0; got != tc.bird {
				t.Errorf("BIRD paths %v / %v, want them: %v", tg.BirdSockets, tg.BirdConfigs, tc.bird)
			}
			if tc.router && (tg.CalicoLogDir != "" || tg.NginxConf != "") {
				t.Errorf("router has Calico paths: %+v", tg)
			}
			if (tg.Router != nil) != tc.reader {
				t.Errorf("router reader set = %v, want %v", tg.Router != nil, tc.reader)
			}
			if tg.Kind != tc.kind || tg.Interface != "eth0" {
				t.Errorf("kind %q interface %q", tg.Kind, tg.Interface)
			}
		})
	}
}
