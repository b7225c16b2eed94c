package capture

import (
	"bytes"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/osrg/gobgp/v4/pkg/packet/bgp"
)

// TestDecodeMalformedMessage checks that hostile bytes inside a BGP stream
// become a malformed event with offset and hex, and that decoding goes on.
func TestDecodeMalformedMessage(t *testing.T) {
	b := newPcapBuilder(t, false)
	c := b.conn(peerA+":40010", peerB+":179")
	c.handshake()
	bad := updateMsg(t, "10.0.0.1", []uint32{65001}, nil, "10.0.0.0/8")
	bad[bgpHeaderLen+4] = 0xff // corrupt the first attribute's flags/type/length
	bad[bgpHeaderLen+6] = 0xee
	open := openMsg(t, 65001, 90, "1.1.1.1")
	c.send(true, open, bad, keepaliveMsg(t))
	tl, err := Decode(bytes.NewReader(b.bytes()), DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s := tl.Sessions[0]
	if s.Counts.Malformed != 1 || s.Counts.Open != 1 || s.Counts.Keepalive != 1 {
		t.Fatalf("counts %+v: want 1 malformed, 1 open, 1 keepalive", s.Counts)
	}
	for _, e := range s.Events {
		if e.Kind != KindMalformed {
			continue
		}
		if e.Malformed.Offset != int64(len(open)) || !strings.HasPrefix(e.Malformed.Bytes, "ffffffff") || e.Malformed.Error == "" {
			t.Errorf("malformed info %+v", e.Malformed)
		}
	}
}

// TestDecodeTruncatedFile cuts a capture mid-record, as a killed writer leaves it.
func TestDecodeTruncatedFile(t *testing.T) {
	for _, ng := range []bool{false, true} {
		b := newPcapBuilder(t, ng)
		c := b.conn(peerA+":40011", peerB+":179")
		c.handshake()
		c.send(true, openMsg(t, 65001, 90, "1.1.1.1"))
		c.seg(false, segFlags{ack: true, psh: true}, openMsg(t, 65002, 90, "2.2.2.2"))
		data := b.bytes()
		tl, err := Decode(bytes.NewReader(data[:len(data)-30]), DecodeOptions{})
		if err != nil {
			t.Fatalf("ng=%v: %v", ng, err)
		}
		if !tl.Truncated || tl.Sessions[0].Counts.Open != 1 {
			t.Errorf("ng=%v: truncated=%v opens=%d, want true and 1", ng, tl.Truncated, tl.Sessions[0].Counts.Open)
		}
	}
}

func TestDecodeRejectsUnknownFormat(t *testing.T) {
	_, err := Decode(strings.NewReader("this is not a capture"), DecodeOptions{})
	if !errors.Is(err, ErrUnknownFormat) {
		t.Fatalf("got %v, want ErrUnknownFormat", err)
	}
}

// TestUpdateScannerMatchesGoBGP decodes every UPDATE of the scenario
// captures with the fast scanner and with GoBGP and compares.
func TestUpdateScannerMatchesGoBGP(t *testing.T) {
	msgs := [][]byte{
		updateMsg(t, "10.0.0.1", []uint32{65001, 65002, 4200000000}, []uint32{1, 0xFFFFFF01}, "10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "10.1.2.128/25", "0.0.0.0/0"),
		mustSerialize(t, bgp.NewBGPUpdateMessage(nil, nil, nil)),
		mpUpdate(&pcapBuilder{tb: t}, "2001:db8::1", []string{"2001:db8::/32"}, []string{"2001:db8:1::/48", "2001:db8:2::/48"}),
	}
	for i, m := range msgs {
		fast, err := (&messageDecoder{updates: newUpdateScanner()}).update(m, 1, nil)
		if err != nil {
			t.Fatalf("msg %d fast: %v", i, err)
		}
		slow, err := (&messageDecoder{gobgpUpdates: true}).update(m, 1, nil)
		if err != nil {
			t.Fatalf("msg %d gobgp: %v", i, err)
		}
		a, b := (&Event{Kind: KindUpdate, Update: fast}).Summary(), (&Event{Kind: KindUpdate, Update: slow}).Summary()
		if a != b {
			t.Errorf("msg %d:\n scanner %s\n gobgp   %s", i, a, b)
		}
	}
}

// TestPortFilter checks the in-process capture filter on synthetic frames.
func TestPortFilter(t *testing.T) {
	frames := func(build func(b *pcapBuilder)) [][]byte {
		b := newPcapBuilder(t, false)
		build(b)
		var out [][]byte
		src, err := openPacketSource(bytes.NewReader(b.bytes()))
		if err != nil {
			t.Fatal(err)
		}
		for {
			d, _, err := src.ZeroCopyReadPacketData()
			if err != nil {
				return out
			}
			out = append(out, append([]byte(nil), d...))
		}
	}
	tests := []struct {
		name  string
		ports []int
		build func(b *pcapBuilder)
		keep  bool
		nets  []netip.Prefix
	}{
		{"bgp port dst", nil, func(b *pcapBuilder) { b.conn(peerA+":40000", peerB+":179").seg(true, segFlags{syn: true}, nil) }, true, nil},
		{"bgp port src", nil, func(b *pcapBuilder) { b.conn(peerA+":179", peerB+":40000").seg(true, segFlags{syn: true}, nil) }, true, nil},
		{"other port", nil, func(b *pcapBuilder) { b.conn(peerA+":40000", peerB+":80").seg(true, segFlags{syn: true}, nil) }, false, nil},
		{"custom port", []int{1179}, func(b *pcapBuilder) { b.conn(peerA+":40000", peerB+":1179").seg(true, segFlags{syn: true}, nil) }, true, nil},
		{"179 not in custom set", []int{1179}, func(b *pcapBuilder) { b.conn(peerA+":40000", peerB+":179").seg(true, segFlags{syn: true}, nil) }, false, nil},
		{"ipv6", nil, func(b *pcapBuilder) {
			b.conn("[2001:db8::1]:40000", "[2001:db8::2]:179").seg(true, segFlags{syn: true}, nil)
		}, true, nil},
		{"icmp unreachable", nil, func(b *pcapBuilder) { b.conn(peerA+":40000", peerB+":80").icmpUnreachable("10.0.0.254", 13) }, true, nil},
		{"source in network", nil, func(b *pcapBuilder) { b.conn(peerA+":40000", "192.0.2.9:179").seg(true, segFlags{syn: true}, nil) }, true,
			[]netip.Prefix{netip.PrefixFrom(netip.MustParseAddr(peerA), 32), netip.MustParsePrefix("198.51.100.0/24")}},
		{"destination in network", nil, func(b *pcapBuilder) { b.conn("192.0.2.9:40000", peerB+":179").seg(true, segFlags{syn: true}, nil) }, true,
			[]netip.Prefix{netip.PrefixFrom(netip.MustParseAddr(peerB), 32)}},
		{"neither address in network", nil, func(b *pcapBuilder) { b.conn(peerA+":40000", peerB+":179").seg(true, segFlags{syn: true}, nil) }, false,
			[]netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")}},
		{"ipv6 in network", nil, func(b *pcapBuilder) {
			b.conn("[2001:db8::1]:40000", "[2001:db8::2]:179").seg(true, segFlags{syn: true}, nil)
		}, true, []netip.Prefix{netip.MustParsePrefix("2001:db8::/64")}},
		{"ipv6 outside network", nil, func(b *pcapBuilder) {
			b.conn("[2001:db8::1]:40000", "[2001:db8::2]:179").seg(true, segFlags{syn: true}, nil)
		}, false, []netip.Prefix{netip.MustParsePrefix("2001:db8:1::/64"), netip.MustParsePrefix("127.0.0.0/8")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := frames(tt.build)
			f := newPortFilter(tt.ports, tt.nets...)
			got := f.keep(fs[len(fs)-1])
			if got != tt.keep {
				t.Fatalf("keep = %v, want %v", got, tt.keep)
			}
		})
	}
}

// TestRotatingWriter writes past MaxBytes and checks the file names and
// that every file decodes on its own.
func TestRotatingWriter(t *testing.T) {
	b := newPcapBuilder(t, false)
	c := b.conn(peerA+":40012", peerB+":179")
	c.handshake()
	for range 50 {
		c.send(true, keepaliveMsg(t))
	}
	src, err := openPacketSource(bytes.NewReader(b.bytes()))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "rot.pcapng")
	w, err := newRotatingWriter(path, "test0", 2000)
	if err != nil {
		t.Fatal(err)
	}
	packets := 0
	for {
		d, ci, err := src.ZeroCopyReadPacketData()
		if err != nil {
			break
		}
		if err := w.write(ci, d); err != nil {
			t.Fatal(err)
		}
		packets++
	}
	if err := w.close(); err != nil {
		t.Fatal(err)
	}
	if w.index < 2 {
		t.Fatalf("wrote %d files, want at least 3", w.index+1)
	}
	total, onDisk := int64(0), int64(0)
	for i := 0; i <= w.index; i++ {
		name := RotatedPath(path, i)
		st, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() > 2000 {
			t.Errorf("%s is %d bytes, over the 2000 limit", name, st.Size())
		}
		onDisk += st.Size()
		total += decodeFile(t, name, DecodeOptions{}).Packets
	}
	if total != int64(packets) {
		t.Errorf("files hold %d packets, wrote %d", total, packets)
	}
	// The figure `peerlab capture` reports once the capture is stopped.
	if got := w.written(); got != onDisk {
		t.Errorf("written() after close = %d bytes, the files hold %d", got, onDisk)
	}
	if got := RotatedPath("/x/cap.pcapng", 2); got != "/x/cap.2.pcapng" {
		t.Errorf("RotatedPath = %s", got)
	}
}

// TestGapDefaultHoldWithoutOpen detects a gap in a session captured
// mid-way, with the default hold time.
func TestGapDefaultHoldWithoutOpen(t *testing.T) {
	b := newPcapBuilder(t, false)
	c := b.conn(peerA+":40013", peerB+":179")
	c.send(true, keepaliveMsg(t))
	for range 5 { // peerB keeps talking every 20 s, peerA is silent
		c.send(false, keepaliveMsg(t))
		b.wait(20 * time.Second)
	}
	c.send(true, keepaliveMsg(t))
	c.send(false, keepaliveMsg(t))
	tl, err := Decode(bytes.NewReader(b.bytes()), DecodeOptions{DefaultHoldTime: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	gaps := 0
	for _, e := range tl.Sessions[0].Events {
		if e.Kind == KindGap {
			gaps++
			if e.Gap.HoldTime != 30 || e.From.Addr().String() != peerA {
				t.Errorf("gap %+v from %s", e.Gap, e.From)
			}
		}
	}
	if gaps != 1 {
		t.Fatalf("got %d gaps, want 1", gaps)
	}
}

// FuzzDecodePcap checks that Decode never panics on arbitrary files.
func FuzzDecodePcap(f *testing.F) {
	for _, sc := range scenarios[:3] {
		b := newPcapBuilder(f, sc.ng)
		sc.build(b)
		f.Add(b.bytes())
	}
	// Real BIRD captures: ADD-PATH UPDATEs, MD5 options, RSTs.
	birdFiles, err := filepath.Glob("testdata/bird/*.pcapng")
	if err != nil || len(birdFiles) == 0 {
		f.Fatalf("no BIRD captures under testdata/bird (%v)", err)
	}
	for _, p := range birdFiles {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		done := make(chan struct{})
		var tl *Timeline
		var err error
		go func() {
			defer close(done)
			tl, err = Decode(bytes.NewReader(data), DecodeOptions{})
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("Decode hangs on %d bytes", len(data))
		}
		if err != nil {
			return
		}
		for _, format := range Formats {
			if err := Render(&bytes.Buffer{}, tl, format); err != nil {
				t.Fatalf("render %s: %v", format, err)
			}
		}
	})
}
