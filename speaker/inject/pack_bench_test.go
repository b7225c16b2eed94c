package inject

import (
	"net/netip"
	"runtime"
	"testing"

	"github.com/osrg/gobgp/v4/pkg/packet/bgp"

	"github.com/peerlab/peerlab/speaker"
)

// BenchmarkLoad packs a table of 1,000,000 /24s (minimal attributes, and
// with 16 attribute sets) into an injector's journal, as Load does before
// a session comes up. It reports packing speed and the journal's bytes
// against the packed floor (4 bytes a /24 plus 43 bytes an UPDATE).
func BenchmarkLoad(b *testing.B) {
	for _, variety := range []int{1, 16} {
		b.Run(map[int]string{1: "minimal", 16: "variety16"}[variety], func(b *testing.B) {
			const n = 1000000
			src := func(yield func(speaker.Route) error) error {
				sets := make([]speaker.Route, variety)
				for j := 1; j < variety; j++ {
					sets[j] = speaker.Route{ASPath: []uint32{64512 + uint32(j)}, Communities: []string{"65000:1"}, MED: uint32(j)}
				}
				for i := range n {
					r := sets[i%variety]
					v := uint32(16)<<24 + uint32(i)<<8
					r.Prefix = netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), 0}), 24)
					if err := yield(r); err != nil {
						return err
					}
				}
				return nil
			}
			var ts TableStats
			var before, after runtime.MemStats
			for b.Loop() {
				in, err := New(Config{Address: netip.MustParseAddr("127.0.0.1"), AS: 65001,
					Peers: []Peer{{Address: netip.MustParseAddr("127.0.0.2"), AS: 65002}}})
				if err != nil {
					b.Fatal(err)
				}
				runtime.GC()
				runtime.ReadMemStats(&before)
				if err := in.Load(src); err != nil {
					b.Fatal(err)
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				ts = in.Table()
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "routes/s")
			b.ReportMetric(float64(ts.Bytes)/float64(4*n+43*((n+1012)/1013)), "bytes/floor")
			b.ReportMetric(float64(ts.Prefixes)/float64(ts.Updates), "prefixes/update")
			b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "heap-MiB")
		})
	}
}

// BenchmarkLoadGoBGPCodec is BenchmarkLoad/minimal's peer in the same
// run: the same 1,000,000 /24s built as GoBGP packet objects and
// serialized by GoBGP's codec, 1,013 prefixes an UPDATE (what the packer
// fits). The ratio of the two routes/s figures is what hand-packing buys.
func BenchmarkLoadGoBGPCodec(b *testing.B) {
	const n, per = 1000000, 1013
	nh, err := bgp.NewPathAttributeNextHop(netip.MustParseAddr("127.0.0.1"))
	if err != nil {
		b.Fatal(err)
	}
	attrs := []bgp.PathAttributeInterface{
		bgp.NewPathAttributeOrigin(0),
		bgp.NewPathAttributeAsPath([]bgp.AsPathParamInterface{bgp.NewAs4PathParam(bgp.BGP_ASPATH_ATTR_TYPE_SEQ, []uint32{65001})}),
		nh,
	}
	var total int
	var before, after runtime.MemStats
	for b.Loop() {
		runtime.GC()
		runtime.ReadMemStats(&before)
		var msgs [][]byte
		total = 0
		for i := 0; i < n; i += per {
			nlri := make([]bgp.PathNLRI, 0, per)
			for k := i; k < min(i+per, n); k++ {
				v := uint32(16)<<24 + uint32(k)<<8
				p, err := bgp.NewIPAddrPrefix(netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), 0}), 24))
				if err != nil {
					b.Fatal(err)
				}
				nlri = append(nlri, bgp.PathNLRI{NLRI: p})
			}
			m, err := bgp.NewBGPUpdateMessage(nil, attrs, nlri).Serialize()
			if err != nil {
				b.Fatal(err)
			}
			msgs = append(msgs, m)
			total += len(m)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(msgs)
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "routes/s")
	b.ReportMetric(float64(total)/float64(4*n+43*((n+per-1)/per)), "bytes/floor")
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "heap-MiB")
}
