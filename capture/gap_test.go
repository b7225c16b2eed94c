package capture

import (
	"bytes"
	"testing"
	"time"
)

// TestGapHoldSlack checks gap detection against BIRD's early hold timer:
// a silence a little under the 3 s hold time that ends in NOTIFICATION 4/0
// is a gap placed before the NOTIFICATION; a silence of one keepalive
// interval and a bit is not.
func TestGapHoldSlack(t *testing.T) {
	tests := []struct {
		name    string
		silence time.Duration
		gap     bool
	}{
		{"hold timer expires early", 2950 * time.Millisecond, true},
		{"at two thirds of hold", 2 * time.Second, true},
		{"one keepalive interval late", 1500 * time.Millisecond, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newPcapBuilder(t, true)
			c := b.conn(peerA+":40100", peerB+":179")
			c.handshake()
			c.send(true, openMsg(t, 64512, 3, "1.1.1.1"))
			c.send(false, openMsg(t, 64512, 3, "2.2.2.2"))
			c.send(true, keepaliveMsg(t))
			c.send(false, keepaliveMsg(t)) // peerB's last word
			n := int(tt.silence / time.Second)
			for range n { // peerA keeps sending
				b.wait(time.Second)
				c.send(true, keepaliveMsg(t))
			}
			b.wait(tt.silence - time.Duration(n)*time.Second)
			c.send(true, notificationMsg(t, 4, 0, nil))
			tl, err := Decode(bytes.NewReader(b.bytes()), DecodeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			ev := tl.Sessions[0].Events
			last := ev[len(ev)-1]
			if last.Kind != KindNotification {
				t.Fatalf("last event %s, want the NOTIFICATION", last.Kind)
			}
			gotGap := ev[len(ev)-2].Kind == KindGap
			if gotGap != tt.gap {
				t.Fatalf("gap before the NOTIFICATION = %v, want %v; events %v", gotGap, tt.gap, ev)
			}
			if gotGap {
				g := ev[len(ev)-2]
				if g.From.Addr().String() != peerB || g.Time.After(last.Time) {
					t.Errorf("gap from %s at %v, want from %s at or before the NOTIFICATION (%v)", g.From, g.Time, peerB, last.Time)
				}
			}
		})
	}
}
