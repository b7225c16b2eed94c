package bird

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// realForms are the three ways the fixtures were captured.
var realForms = []string{"raw", "birdc", "birdc-v"}

func readFixture(t *testing.T, version, scenario, cmd, form string) string {
	t.Helper()
	p := filepath.Join("testdata", "real", version, scenario+"."+cmd+"."+form+".txt")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (regenerate with go test -run TestCaptureRealOutput -capture)", err)
	}
	return string(b)
}

// realWant is what a captured `show protocols all NAME` must parse to.
type realWant struct {
	version, scenario string
	name              string
	state, info       string
	infoDetail        string
	bgpState          string
	neighbor          string
	neighborAS        uint32
	localAS           uint32
	source            string
	lastError         string
	holdTotal         time.Duration
	imported          int
	channels          int
}

var realWants = []realWant{
	{"bird1", "established", "Mesh_127_100_1_2_port_17902", "up", "Established", "", "Established",
		"127.100.1.2", 64512, 0, "127.100.1.1", "", 240 * time.Second, 1, 0},
	{"bird1", "bad-peer-as", "Node_127_100_1_2_port_17902", "start", "Idle", "BGP Error: Bad peer AS", "Idle",
		"127.100.1.2", 64999, 0, "", "BGP Error: Bad peer AS", 0, 0, 0},
	{"bird1", "refused", "Global_127_100_1_3_port_17903", "start", "Active", "Socket: Connection refused", "Active",
		"127.100.1.3", 64512, 0, "", "Socket: Connection refused", 0, 0, 0},
	{"bird2", "established", "Mesh_127_100_1_1_port_17901", "up", "Established", "", "Established",
		"127.100.1.1", 64512, 64512, "127.100.1.2", "", 240 * time.Second, 1, 1},
	{"bird2", "bad-peer-as", "Node_127_100_1_1_port_17901", "start", "Idle", "Received: Bad peer AS", "Idle",
		"127.100.1.1", 64512, 64512, "", "Received: Bad peer AS", 0, 0, 1},
	{"bird2", "refused", "Global_127_100_1_3_port_17903", "start", "Active", "Socket: Connection refused", "Active",
		"127.100.1.3", 64512, 64512, "", "Socket: Connection refused", 0, 0, 1},
}

func TestParseProtocolDetailRealOutput(t *testing.T) {
	for _, w := range realWants {
		for _, form := range realForms {
			t.Run(w.version+"/"+w.scenario+"/"+form, func(t *testing.T) {
				text := readFixture(t, w.version, w.scenario, "show-protocols-all", form)
				d, err := ParseProtocolDetail(strings.NewReader(text))
				if err != nil {
					t.Fatal(err)
				}
				checks := []struct {
					field     string
					got, want any
				}{
					{"Name", d.Name, w.name},
					{"Proto", d.Proto, "BGP"},
					{"State", d.State, w.state},
					{"Info", d.Info, w.info},
					{"InfoDetail", d.InfoDetail, w.infoDetail},
					{"BGPState", d.BGPState, w.bgpState},
					{"NeighborAddress", d.NeighborAddress, w.neighbor},
					{"NeighborAS", d.NeighborAS, w.neighborAS},
					{"LocalAS", d.LocalAS, w.localAS},
					{"SourceAddress", d.SourceAddress, w.source},
					{"LastError", d.LastError, w.lastError},
					{"HoldTimer.Total", d.HoldTimer.Total, w.holdTotal},
					{"Routes.Imported", d.Routes.Imported, w.imported},
					{"len(Channels)", len(d.Channels), w.channels},
					{"Description", d.Description, "Connection to BGP peer"},
				}
				for _, c := range checks {
					if c.got != c.want {
						t.Errorf("%s = %v, want %v", c.field, c.got, c.want)
					}
				}
				if w.holdTotal > 0 && (d.HoldTimer.Left <= 0 || d.HoldTimer.Left > d.HoldTimer.Total) {
					t.Errorf("HoldTimer = %+v, want 0 < Left <= Total", d.HoldTimer)
				}
				if w.channels > 0 && (d.Channels[0].Name != "ipv4" || d.Channels[0].Table != "master4") {
					t.Errorf("Channels[0] = %+v, want ipv4 on master4", d.Channels[0])
				}
			})
		}
	}
}

func TestParseProtocolsRealOutput(t *testing.T) {
	for _, w := range realWants {
		for _, form := range realForms {
			t.Run(w.version+"/"+w.scenario+"/"+form, func(t *testing.T) {
				ps, err := ParseProtocols(strings.NewReader(readFixture(t, w.version, w.scenario, "show-protocols", form)))
				if err != nil {
					t.Fatal(err)
				}
				got := map[string]Protocol{}
				for _, p := range ps {
					got[p.Name] = p
				}
				if len(ps) != 5 {
					t.Errorf("parsed %d protocols, want 5 (kernel, device, direct, static, bgp): %+v", len(ps), ps)
				}
				bgp, ok := got[w.name]
				if !ok {
					t.Fatalf("no protocol %s in %+v", w.name, ps)
				}
				if bgp.Proto != "BGP" || bgp.State != w.state || bgp.Info != w.info || bgp.InfoDetail != w.infoDetail {
					t.Errorf("%s = %+v, want BGP %s %s %q", w.name, bgp, w.state, w.info, w.infoDetail)
				}
				if bgp.Since == "" {
					t.Errorf("%s: Since is empty", w.name)
				}
				wantTable := map[string]string{"bird1": "master", "bird2": ""}[w.version]
				if bgp.Table != wantTable {
					t.Errorf("%s: Table = %q, want %q", w.name, bgp.Table, wantTable)
				}
				if k := got["kernel1"]; k.Proto != "Kernel" || k.State != "up" {
					t.Errorf("kernel1 = %+v, want Kernel up", k)
				}
			})
		}
	}
}

func TestParseRouteCountRealOutput(t *testing.T) {
	for _, v := range []string{"bird1", "bird2"} {
		for _, form := range realForms {
			t.Run(v+"/"+form, func(t *testing.T) {
				// Established: the loopback route (direct), its own block and the peer's.
				n, err := ParseRouteCount(strings.NewReader(readFixture(t, v, "established", "show-route-count", form)))
				if err != nil {
					t.Fatal(err)
				}
				if n != 3 {
					t.Errorf("route count = %d, want 3", n)
				}
			})
		}
	}
}

// TestReadReplyRealOutput decodes the raw socket captures: the greeting, then
// one reply whose continuation lines inherit the code before them.
func TestReadReplyRealOutput(t *testing.T) {
	files := goldenFiles(t, "real/*/*.raw.txt")
	for _, f := range files {
		t.Run(filepath.Base(filepath.Dir(f))+"/"+filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			r := bufio.NewReader(strings.NewReader(string(b)))
			greet, err := ReadReply(r)
			if err != nil || len(greet) != 1 || greet[0].Code != CodeWelcome {
				t.Fatalf("greeting = %v, %v", greet, err)
			}
			lines, err := ReadReply(r)
			if err != nil {
				t.Fatal(err)
			}
			last := lines[len(lines)-1]
			if strings.Contains(f, "route-count") {
				if last.Code != CodeRouteCount {
					t.Errorf("final code %d, want 0014", last.Code)
				}
				return
			}
			if last.Code != CodeOK {
				t.Errorf("final code %d, want 0000", last.Code)
			}
			codes := map[int]int{}
			for _, l := range lines {
				codes[l.Code]++
			}
			if codes[CodeProtocolList] == 0 || codes[2002] != 1 {
				t.Errorf("codes %v: want a 2002 heading and 1002 rows", codes)
			}
			if strings.Contains(f, "protocols-all") && codes[CodeProtocolDetails] < 5 {
				t.Errorf("codes %v: want 1006 detail lines (continuations included)", codes)
			}
			if _, err := ReadReply(r); err == nil {
				t.Error("data after the reply")
			}
		})
	}
}
