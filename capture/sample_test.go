package capture

import (
	"bytes"
	"net/netip"
	"testing"
)

// transferPrefix is the prefix writeTableTransfer announces in UPDATE i.
func transferPrefix(i int) netip.Prefix {
	p := uint32(1<<24 + i<<8)
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(p >> 24), byte(p >> 16), byte(p >> 8), 0}), 24)
}

// TestTimelineSampling decodes a generated table transfer under each
// keep policy and checks what is counted, stored, elided and streamed.
func TestTimelineSampling(t *testing.T) {
	const n = 2000
	var capBuf bytes.Buffer
	if err := writeTableTransfer(&capBuf, transferSpec{Updates: n}); err != nil {
		t.Fatal(err)
	}
	// The client's run is its KEEPALIVE and the n UPDATEs up to the
	// End-of-RIB; everything else is stored whatever the policy.
	const clientRun = n + 1
	for _, tc := range []struct {
		name         string
		opts         DecodeOptions
		stream       bool
		wantElided   int64
		wantEvents   int
		wantUpdateEv int // stored UPDATE events, End-of-RIB included
	}{
		// SYN, SYN-ACK, 2 OPEN, server KEEPALIVE, EoR, 2 KEEPALIVE = 8 stored always.
		{"default sample", DecodeOptions{}, false, clientRun - 2*DefaultSample, 8 + 2*DefaultSample + 1, 2*DefaultSample - 1 + 1},
		{"sample 3", DecodeOptions{Sample: 3}, false, clientRun - 6, 8 + 6 + 1, 5 + 1},
		{"all events", DecodeOptions{AllEvents: true}, false, 0, 8 + clientRun, n + 1},
		// With OnEvent every run, even of one KEEPALIVE, becomes an elided event.
		{"stream", DecodeOptions{}, true, clientRun + 3, 4 + 1 + 4, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var streamed []Event
			if tc.stream {
				tc.opts.OnEvent = func(e Event) { streamed = append(streamed, e) }
			}
			tl, err := Decode(bytes.NewReader(capBuf.Bytes()), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(tl.Sessions) != 1 {
				t.Fatalf("%d sessions, want 1", len(tl.Sessions))
			}
			s := tl.Sessions[0]
			if tl.Messages != n+7 || s.Counts.Update != n+1 || s.Counts.Keepalive != 4 {
				t.Errorf("messages %d counts %+v: want %d messages, %d UPDATEs, 4 KEEPALIVEs", tl.Messages, s.Counts, n+7, n+1)
			}
			if tl.Elided != tc.wantElided || len(s.Events) != tc.wantEvents {
				t.Errorf("elided %d, %d events stored; want %d and %d", tl.Elided, len(s.Events), tc.wantElided, tc.wantEvents)
			}
			var elided int64
			var updates []Event
			for i, e := range s.Events {
				if i > 0 && e.Time.Before(s.Events[i-1].Time) {
					t.Errorf("event %d (%s) is before event %d", i, e.Kind, i-1)
				}
				switch e.Kind {
				case KindElided:
					elided += e.Elided.Messages
					if e.Elided.Messages != e.Elided.Updates+e.Elided.Keepalives || e.Elided.Last.Before(e.Elided.First) {
						t.Errorf("inconsistent elided event %+v", e.Elided)
					}
				case KindUpdate:
					updates = append(updates, e)
				}
			}
			if elided != tl.Elided || len(updates) != tc.wantUpdateEv {
				t.Errorf("elided events sum to %d (timeline says %d); %d UPDATE events, want %d", elided, tl.Elided, len(updates), tc.wantUpdateEv)
			}
			// Stored UPDATEs must keep their own prefixes (no aliasing of
			// the scanner's scratch block): the head from 0, the tail up to n-1.
			k := min(tc.opts.Sample, n)
			if k == 0 {
				k = DefaultSample
			}
			for j, u := range updates[:len(updates)-1] {
				want := transferPrefix(j)
				if !tc.opts.AllEvents && j >= k-1 {
					want = transferPrefix(n - (len(updates) - 1 - j))
				}
				if got := u.Update.FirstAnnounced; len(got) != 1 || got[0] != want {
					t.Fatalf("stored UPDATE %d announces %v, want %v", j, got, want)
				}
			}
			if !updates[len(updates)-1].Update.EndOfRIB {
				t.Error("last stored UPDATE is not the End-of-RIB")
			}
			if !tc.stream {
				return
			}
			if len(streamed) != n+9 {
				t.Fatalf("OnEvent got %d events, want %d", len(streamed), n+9)
			}
			seen := map[netip.Prefix]bool{}
			for _, e := range streamed {
				if e.Kind == KindElided {
					t.Fatal("OnEvent received an elided event")
				}
				if e.Kind == KindUpdate && !e.Update.EndOfRIB {
					seen[e.Update.FirstAnnounced[0]] = true
				}
			}
			if len(seen) != n || !seen[transferPrefix(0)] || !seen[transferPrefix(n-1)] {
				t.Errorf("OnEvent UPDATEs announce %d distinct prefixes, want %d", len(seen), n)
			}
		})
	}
}

// TestGeneratedTransferSegmentation checks that the generator packs
// messages into full segments that cut messages, as a speaker does.
func TestGeneratedTransferSegmentation(t *testing.T) {
	var buf bytes.Buffer
	if err := writeTableTransfer(&buf, transferSpec{Updates: 500, MSS: 1400}); err != nil {
		t.Fatal(err)
	}
	src, err := openPacketSource(&buf)
	if err != nil {
		t.Fatal(err)
	}
	p := newPacketParser()
	full, cut := 0, 0
	for {
		data, ci, err := src.ZeroCopyReadPacketData()
		if err != nil {
			break
		}
		pk, ok := p.parse(src.LinkType(), data)
		if !ok || !pk.tcp {
			t.Fatalf("packet at %s is not TCP", ci.Timestamp)
		}
		if l := len(p.tcp.Payload); l == 1400 {
			full++
			if !isMarker(p.tcp.Payload) {
				cut++ // the segment starts inside a message
			}
		}
	}
	// 500 UPDATEs of about 60 bytes fill about 20 segments of 1400 bytes.
	if full < 15 || cut < full/2 {
		t.Errorf("%d full-size segments, %d starting inside a message", full, cut)
	}
}
