package capture

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// birdSignatures is, per capture recorded from a real BIRD 1.6 lab
// (lab's TestCaptureBIRDFaults with -update-bird-captures), what its one
// session's timeline must show.
var birdSignatures = map[string]func(s *Session) bool{
	"clean.pcapng": func(s *Session) bool {
		return s.Counts.Open == 2 && s.Counts.Update >= 2 && s.Counts.Malformed == 0 && hasKind(s, KindSYNACK)
	},
	"tcp179-drop.pcapng": func(s *Session) bool {
		return hasKind(s, KindSYNRetransmit) && !hasKind(s, KindSYNACK) && s.Counts.Total() == 0
	},
	"tcp179-reject.pcapng": func(s *Session) bool {
		return hasKind(s, KindRST) && !hasKind(s, KindSYNACK) && s.Counts.Total() == 0
	},
	"as-mismatch.pcapng": func(s *Session) bool { return hasNotification(s, 2, 2) },
	"md5-mismatch.pcapng": func(s *Session) bool {
		return hasKind(s, KindTCPMD5) && !hasKind(s, KindSYNACK) && s.Counts.Total() == 0
	},
	"hold-timer-expiry.pcapng": func(s *Session) bool {
		for i, e := range s.Events {
			if e.Kind == KindGap && i+1 < len(s.Events) && s.Events[i+1].Kind == KindNotification {
				n := s.Events[i+1].Notification
				return n.Code == 4 && n.Subcode == 0
			}
		}
		return false
	},
}

func hasKind(s *Session, k Kind) bool {
	for _, e := range s.Events {
		if e.Kind == k {
			return true
		}
	}
	return false
}

func hasNotification(s *Session, code, sub uint8) bool {
	for _, e := range s.Events {
		if e.Kind == KindNotification && e.Notification.Code == code && e.Notification.Subcode == sub {
			return true
		}
	}
	return false
}

// TestBIRDCaptures decodes every capture under testdata/bird/ (recorded
// from real BIRD labs; timestamps and ports vary run to run, so the
// goldens are of the committed files): the fault's signature is in the
// timeline, text and JSON match testdata/bird/golden (-update rewrites
// them), and tshark's BGP dissector counts the same messages per type.
func TestBIRDCaptures(t *testing.T) {
	files, err := filepath.Glob("testdata/bird/*.pcapng")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(birdSignatures) {
		t.Fatalf("found %d captures under testdata/bird/ (%v), want the %d with a signature", len(files), files, len(birdSignatures))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			sig, ok := birdSignatures[filepath.Base(f)]
			if !ok {
				t.Fatalf("no signature for %s", f)
			}
			tl := decodeFile(t, f, DecodeOptions{})
			if len(tl.Sessions) != 1 {
				t.Fatalf("%d sessions, want 1", len(tl.Sessions))
			}
			s := tl.Sessions[0]
			if !sig(s) {
				var text bytes.Buffer
				_ = Render(&text, tl, "text")
				t.Errorf("signature missing from the timeline:\n%s", text.String())
			}
			for _, format := range []string{"text", "json"} {
				var out bytes.Buffer
				if err := Render(&out, tl, format); err != nil {
					t.Fatal(err)
				}
				golden := filepath.Join("testdata", "bird", "golden", strings.TrimSuffix(filepath.Base(f), ".pcapng")+"."+format)
				if *update {
					if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test -update to create it)", err)
				}
				if !bytes.Equal(out.Bytes(), want) {
					t.Errorf("%s differs from golden %s; got:\n%s", f, golden, out.String())
				}
			}
			got := tsharkCounts(t, f, DefaultPort)
			want := map[string]int64{"1": s.Counts.Open, "2": s.Counts.Update, "3": s.Counts.Notification, "4": s.Counts.Keepalive, "5": s.Counts.RouteRefresh}
			for typ, n := range want {
				if got[typ] != n {
					t.Errorf("BGP type %s: decoder counted %d, tshark %d", typ, n, got[typ])
				}
			}
		})
	}
}
