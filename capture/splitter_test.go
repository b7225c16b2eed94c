package capture

import (
	"bytes"
	"errors"
	"testing"

	"github.com/osrg/gobgp/v4/pkg/packet/bgp"
)

type splitUnit struct {
	off int64
	n   int
	err error
}

func collect(units *[]splitUnit) func(StreamMessage) {
	return func(m StreamMessage) { *units = append(*units, splitUnit{m.Offset, len(m.Bytes), m.Err}) }
}

func TestSplitBGPStream(t *testing.T) {
	ka := keepaliveMsg(t)
	open := openMsg(t, 65001, 90, "1.1.1.1")
	badLen := append(bytes.Repeat([]byte{0xff}, 16), 0, 5, 4)
	tests := []struct {
		name string
		in   []byte
		want []splitUnit
	}{
		{"empty", nil, nil},
		{"two messages", append(append([]byte{}, open...), ka...), []splitUnit{{0, len(open), nil}, {int64(len(open)), 19, nil}}},
		{"junk then keepalive", append([]byte("hello world, not bgp"), ka...), []splitUnit{{0, 20, ErrBadMarker}, {20, 19, nil}}},
		{"length below header", append(append([]byte{}, badLen...), ka...), []splitUnit{{0, 19, ErrBadLength}, {19, 19, nil}}},
		{"trailing partial", append(append([]byte{}, ka...), open[:25]...), []splitUnit{{0, 19, nil}, {19, 25, ErrTruncated}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []splitUnit
			SplitBGPStream(tt.in, collect(&got))
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i].off != tt.want[i].off || got[i].n != tt.want[i].n || !errors.Is(got[i].err, tt.want[i].err) {
					t.Errorf("unit %d: got %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

// TestSplitterChunking feeds a stream one byte at a time and in one piece
// and expects the same messages.
func TestSplitterChunking(t *testing.T) {
	stream := bytes.Join([][]byte{openMsg(t, 65001, 90, "1.1.1.1"), keepaliveMsg(t),
		updateMsg(t, "10.0.0.1", []uint32{65001}, nil, "10.1.0.0/16"), notificationMsg(t, 6, 2, shutdownData("bye"))}, nil)
	var whole, bytewise []splitUnit
	SplitBGPStream(stream, collect(&whole))
	var s Splitter
	for i := range stream {
		s.Write(stream[i:i+1], collect(&bytewise))
	}
	s.Flush(collect(&bytewise))
	if len(whole) != 4 {
		t.Fatalf("got %d messages, want 4", len(whole))
	}
	if len(bytewise) != len(whole) {
		t.Fatalf("bytewise %v != whole %v", bytewise, whole)
	}
	for i := range whole {
		if whole[i] != bytewise[i] {
			t.Errorf("unit %d: bytewise %+v, whole %+v", i, bytewise[i], whole[i])
		}
	}
}

func TestSplitBGPReader(t *testing.T) {
	stream := bytes.Repeat(keepaliveMsg(t), 10000) // crosses read chunks
	var got []splitUnit
	if err := SplitBGPReader(bytes.NewReader(stream), collect(&got)); err != nil {
		t.Fatal(err)
	}
	if len(got) != 10000 {
		t.Fatalf("got %d messages, want 10000", len(got))
	}
}

// FuzzSplitBGPStream checks that splitting never panics, accounts for
// every byte exactly once and does not depend on how input is chunked.
func FuzzSplitBGPStream(f *testing.F) {
	f.Add(keepaliveMsg(f), 3)
	f.Add(append(openMsg(f, 65001, 90, "1.1.1.1"), 0xff, 0xff, 0xff), 7)
	f.Add([]byte("garbage\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x00\x13\x04"), 1)
	f.Fuzz(func(t *testing.T, data []byte, chunk int) {
		if chunk <= 0 {
			chunk = 1
		}
		var whole, chunked []splitUnit
		total := 0
		SplitBGPStream(data, func(m StreamMessage) {
			if m.Offset != int64(total) {
				t.Fatalf("offset %d, want %d", m.Offset, total)
			}
			total += len(m.Bytes)
			whole = append(whole, splitUnit{m.Offset, len(m.Bytes), m.Err})
			if m.Err == nil {
				var ev Event
				d := messageDecoder{updates: newUpdateScanner()}
				_ = d.decode(m.Bytes, 0, nil, &ev) // must not panic
				ev = Event{}
				_ = d.decode(m.Bytes, 1, pathIDFamilies{bgp.RF_IPv4_UC, bgp.RF_IPv6_UC, bgp.RF_IPv4_VPN}, &ev)
			}
		})
		if total != len(data) {
			t.Fatalf("emitted %d bytes of %d", total, len(data))
		}
		var s Splitter
		for i := 0; i < len(data); i += chunk {
			s.Write(data[i:min(i+chunk, len(data))], collect(&chunked))
		}
		s.Flush(collect(&chunked))
		// Framed messages must be identical; junk runs may be cut differently.
		framed := func(u []splitUnit) []splitUnit {
			var out []splitUnit
			for _, x := range u {
				if x.err == nil {
					out = append(out, x)
				}
			}
			return out
		}
		a, b := framed(whole), framed(chunked)
		if len(a) != len(b) {
			t.Fatalf("chunked framing %v != whole %v", b, a)
		}
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("message %d: chunked %+v, whole %+v", i, b[i], a[i])
			}
		}
	})
}
