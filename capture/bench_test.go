package capture

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/osrg/gobgp/v4/pkg/packet/bgp"
)

// writeUpdateCapture writes a pcap holding one session with n UPDATEs
// (one prefix each, distinct), packed into full-size TCP segments as a
// table transfer is, and returns its path.
func writeUpdateCapture(tb testing.TB, dir string, n int) string {
	b := newPcapBuilder(tb, false)
	c := b.conn(peerA+":40100", peerB+":179")
	c.handshake()
	c.send(true, openMsg(tb, 65001, 90, "1.1.1.1"))
	c.send(false, openMsg(tb, 65002, 90, "2.2.2.2"))
	tmpl := updateMsg(tb, peerA, []uint32{65001, 65100}, []uint32{65001<<16 | 1}, "10.0.0.0/24")
	prefixAt := len(tmpl) - 3 // the NLRI's three address bytes
	var seg []byte
	for i := range n {
		m := append([]byte(nil), tmpl...)
		m[prefixAt], m[prefixAt+1], m[prefixAt+2] = 10+byte(i>>16), byte(i>>8), byte(i)
		seg = append(seg, m...)
		if len(seg) > 1400 || i == n-1 {
			c.seg(true, segFlags{ack: true, psh: true}, seg)
			seg = seg[:0]
			if i%16 == 0 {
				c.seg(false, segFlags{ack: true}, nil)
			}
			b.wait(10 * time.Microsecond)
		}
	}
	path := filepath.Join(dir, "updates.pcap")
	if err := os.WriteFile(path, b.bytes(), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

// BenchmarkDecode decodes a capture of 200k UPDATEs and reports messages/s.
func BenchmarkDecode(b *testing.B) {
	const n = 200_000
	path := writeUpdateCapture(b, b.TempDir(), n)
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	var msgs int64
	for range b.N {
		tl, err := Decode(bytes.NewReader(data), DecodeOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if got := tl.Sessions[0].Counts.Update; got != n {
			b.Fatalf("decoded %d UPDATEs, want %d", got, n)
		}
		msgs += tl.Messages
	}
	b.ReportMetric(float64(msgs)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkParseUpdateGoBGP is the reference: GoBGP's full UPDATE parser.
func BenchmarkParseUpdateGoBGP(b *testing.B) {
	m := updateMsg(b, peerA, []uint32{65001, 65100}, []uint32{65001<<16 | 1}, "10.0.0.0/24")
	b.ReportAllocs()
	for range b.N {
		if _, err := bgp.ParseBGPMessage(m); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScanUpdate is the decoder's allocation-light UPDATE scanner.
func BenchmarkScanUpdate(b *testing.B) {
	m := updateMsg(b, peerA, []uint32{65001, 65100}, []uint32{65001<<16 | 1}, "10.0.0.0/24")
	u := newUpdateScanner()
	b.ReportAllocs()
	for range b.N {
		if _, err := u.scan(m[bgpHeaderLen:], 1, nil); err != nil {
			b.Fatal(err)
		}
	}
}
