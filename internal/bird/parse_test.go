package bird

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseProtocolsPastedText(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []Protocol
	}{
		{
			name: "bird 1.6 pasted with prompt, indentation and CRLF",
			in: "bird> show protocols\r\n" +
				"    name     proto    table    state  since       info\r\n" +
				"    kernel1  Kernel   master   up     2024-03-01  \r\n" +
				"    Mesh_10_0_0_2 BGP      master   start  10:11:12    Connect       Socket: Connection closed\r\n",
			want: []Protocol{
				{Name: "kernel1", Proto: "Kernel", Table: "master", State: "up", Since: "2024-03-01"},
				{Name: "Mesh_10_0_0_2", Proto: "BGP", Table: "master", State: "start", Since: "10:11:12", Info: "Connect", InfoDetail: "Socket: Connection closed"},
			},
		},
		{
			name: "bird 2 with iso long time and verbose prefixes",
			in: "0001 BIRD 2.0.12 ready.\n2002-Name       Proto      Table      State  Since         Info\n" +
				"1002-Node_10_0_0_9 BGP        ---        up     2024-03-01 10:11:12  Established   \n" +
				"     Global_10_0_0_1 BGP        ---        start  2024-03-01 10:11:12  OpenSent\n0000 \n",
			want: []Protocol{
				{Name: "Node_10_0_0_9", Proto: "BGP", State: "up", Since: "2024-03-01 10:11:12", Info: "Established"},
				{Name: "Global_10_0_0_1", Proto: "BGP", State: "start", Since: "2024-03-01 10:11:12", Info: "OpenSent"},
			},
		},
		{
			name: "garbage only",
			in:   "calicoctl node status\nIPv4 BGP status\n+--------------+\n",
			want: nil,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseProtocols(strings.NewReader(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d protocols %+v, want %d", len(got), got, len(tc.want))
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("protocol %d = %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestParseProtocolDetailsPastedText(t *testing.T) {
	// Two BIRD 1.6 protocols pasted from a ticket, one of them with the
	// "Hold timer expired" error and an old "Start delay" timer.
	in := `
name     proto    table    state  since       info
Mesh_10_0_0_2 BGP      master   start  2024-01-05  Active        Error: Hold timer expired
  Description:    Connection to BGP peer
  Preference:     100
  Routes:         0 imported, 2 filtered, 0 exported, 0 preferred
  BGP state:          Active
    Neighbor address: 10.0.0.2%eth0
    Neighbor AS:      64512
    Start delay:      3/5
    Last error:       Error: Hold timer expired
Mesh_10_0_0_3 BGP      master   up     2024-01-05  Established
  BGP state:          Established
    Neighbor address: 10.0.0.3
    Neighbor AS:      64512
    Neighbor ID:      10.0.0.3
    Source address:   10.0.0.1
    Hold timer:       3/9
    Keepalive timer:  1/3
`
	ds, err := ParseProtocolDetails(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 2 {
		t.Fatalf("got %d protocols, want 2", len(ds))
	}
	a, b := ds[0], ds[1]
	if a.LastError != "Error: Hold timer expired" || a.NeighborAddress != "10.0.0.2" || a.ConnectDelay != (Timer{3 * time.Second, 5 * time.Second}) {
		t.Errorf("first = %+v", a)
	}
	if a.Routes != (RouteCounts{Filtered: 2}) {
		t.Errorf("first routes = %+v", a.Routes)
	}
	if b.HoldTimer != (Timer{3 * time.Second, 9 * time.Second}) || b.KeepaliveTimer.Total != 3*time.Second || b.NeighborID != "10.0.0.3" {
		t.Errorf("second = %+v", b)
	}
	if b.Fields["Source address"] != "10.0.0.1" {
		t.Errorf("Fields = %v", b.Fields)
	}
	if _, err := ParseProtocolDetail(strings.NewReader("nothing here\n")); err != ErrNoProtocol {
		t.Errorf("err = %v, want ErrNoProtocol", err)
	}
}

func TestParseTimerFractions(t *testing.T) {
	tests := []struct {
		in   string
		want Timer
	}{
		{"225.742/240", Timer{225742 * time.Millisecond, 240 * time.Second}},
		{"70/80", Timer{70 * time.Second, 80 * time.Second}},
		{"garbage", Timer{}},
		{"-1/90", Timer{0, 90 * time.Second}},
	}
	for _, tc := range tests {
		if got := parseTimer(tc.in); got != tc.want {
			t.Errorf("parseTimer(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

// fuzzSeeds returns every real capture as a seed.
func fuzzSeeds(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "real", "*", "*.txt"))
	if len(files) == 0 {
		f.Fatal("no seed files under testdata/real")
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func FuzzParseProtocolDetails(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		ds, err := ParseProtocolDetails(strings.NewReader(string(b)))
		if err != nil {
			return
		}
		ps, _ := ParseProtocols(strings.NewReader(string(b)))
		if len(ps) != len(ds) {
			t.Errorf("ParseProtocols found %d rows, ParseProtocolDetails %d", len(ps), len(ds))
		}
	})
}

func FuzzReadReply(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bufio.NewReader(strings.NewReader(string(b)))
		for i := 0; i < 1000; i++ {
			if _, err := ReadReply(r); err != nil && ErrorCode(err) == 0 {
				return
			}
		}
	})
}
