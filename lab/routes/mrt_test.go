package routes

import (
	"bytes"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/peerlab/peerlab/speaker"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// smallTable is the table of testdata/small.mrt: 64 /24s with four
// attribute sets and explicit next hops.
func smallTable(t testing.TB) []speaker.Route {
	t.Helper()
	rs, err := Generate(Generator{Count: 64, From: netip.MustParsePrefix("198.18.0.0/16"), Length: 24, Variety: 4, NextHop: netip.MustParseAddr("192.0.2.1")})
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

var smallPeer = MRTPeer{RouterID: netip.MustParseAddr("192.0.2.1"), Address: netip.MustParseAddr("192.0.2.1"), ASN: 65100}

// withPeerAS is routes as a dump of them reads back: the peer's AS leads
// every AS path.
func withPeerAS(routes []speaker.Route, asn uint32) []speaker.Route {
	out := make([]speaker.Route, len(routes))
	for i, r := range routes {
		r.ASPath = append([]uint32{asn}, r.ASPath...)
		out[i] = r
	}
	return out
}

func TestMRTGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteMRT(&buf, smallTable(t), smallPeer); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "small.mrt")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("WriteMRT output differs from %s (%d vs %d bytes); run go test -update if the change is meant", golden, buf.Len(), len(want))
	}
	got, err := ReadMRT(bytes.NewReader(want), MRTOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if exp := withPeerAS(smallTable(t), smallPeer.ASN); !reflect.DeepEqual(got, exp) {
		t.Errorf("ReadMRT(golden) differs from the table written:\n got[1] %+v\nwant[1] %+v", got[1], exp[1])
	}
}

func TestReadMRTOptions(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteMRT(&buf, smallTable(t), MRTPeer{RouterID: smallPeer.RouterID, Address: smallPeer.Address, ASN: 65100, Time: time.Unix(1700000000, 0)}); err != nil {
		t.Fatal(err)
	}
	nh := netip.MustParseAddr("10.0.0.9")
	got, err := ReadMRT(bytes.NewReader(buf.Bytes()), MRTOptions{NextHop: nh, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 10 {
		t.Fatalf("Limit 10 read %d routes", len(got))
	}
	for _, r := range got {
		if r.NextHop != nh {
			t.Fatalf("next hop %v, want %v", r.NextHop, nh)
		}
	}
}

func TestReadMRTMalformed(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteMRT(&buf, smallTable(t)[:3], smallPeer); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	tests := []struct {
		name string
		data []byte
		want string // "" means no error
	}{
		{"empty", nil, ""},
		{"truncated record", good[:len(good)-5], ""}, // the last record is incomplete: dropped, like a cut download
		{"bad prefix length", corruptPrefixLen(good), "read MRT record 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, err := ReadMRT(bytes.NewReader(tt.data), MRTOptions{})
			if tt.want == "" {
				if err != nil {
					t.Fatalf("err = %v (read %d)", err, len(rs))
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// corruptPrefixLen sets the prefix length of the first RIB record to 40.
func corruptPrefixLen(good []byte) []byte {
	b := bytes.Clone(good)
	pitLen := 12 + (int(b[8])<<24 | int(b[9])<<16 | int(b[10])<<8 | int(b[11]))
	b[pitLen+12+4] = 40 // header, sequence number, then the prefix length
	return b
}

func TestWriteMRTRejectsIPv6(t *testing.T) {
	r := speaker.Route{Prefix: netip.MustParsePrefix("2001:db8::/48")}
	if err := WriteMRT(&bytes.Buffer{}, []speaker.Route{r}, smallPeer); err == nil || !strings.Contains(err.Error(), "only IPv4") {
		t.Fatalf("err = %v", err)
	}
}
