package capture

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"testing"
)

// synScan builds a capture of n SYNs to port 179, each from its own source.
func synScan(tb testing.TB, n int) []byte {
	tb.Helper()
	b := newPcapBuilder(tb, false)
	for i := range n {
		src := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		c := b.conn(src.String()+":40000", "192.168.0.1:179")
		c.seg(true, segFlags{syn: true}, nil)
	}
	return b.bytes()
}

func TestDecodeBoundsSessions(t *testing.T) {
	data := synScan(t, 300)
	cases := []struct {
		max, wantSessions int
		wantUntracked     int64
	}{
		{max: 100, wantSessions: 100, wantUntracked: 200},
		{max: 300, wantSessions: 300, wantUntracked: 0},
		{max: -1, wantSessions: 300, wantUntracked: 0},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.max), func(t *testing.T) {
			tl, err := Decode(bytes.NewReader(data), DecodeOptions{MaxSessions: tc.max})
			if err != nil {
				t.Fatal(err)
			}
			if len(tl.Sessions) != tc.wantSessions || tl.Untracked.Sessions != tc.wantUntracked || tl.Untracked.Packets != tc.wantUntracked {
				t.Fatalf("sessions %d, untracked %+v; want %d and %d", len(tl.Sessions), tl.Untracked, tc.wantSessions, tc.wantUntracked)
			}
			var out bytes.Buffer
			if err := Render(&out, tl, "text"); err != nil {
				t.Fatal(err)
			}
			said := bytes.Contains(out.Bytes(), []byte("counted, not decoded"))
			if said != (tc.wantUntracked > 0) {
				t.Fatalf("text report says untracked sessions: %v, want %v", said, tc.wantUntracked > 0)
			}
		})
	}
}

func TestDecodeContextCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := DecodeContext(ctx, bytes.NewReader(synScan(t, 10)), DecodeOptions{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// BenchmarkDecodeSYNScan decodes 100,000 SYNs from distinct sources (a
// scan, or a hostile file) and reports the bytes allocated per byte of
// capture: the default session limit keeps it a small constant.
func BenchmarkDecodeSYNScan(b *testing.B) {
	data := synScan(b, 100_000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(bytes.NewReader(data), DecodeOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
