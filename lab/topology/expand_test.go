package topology

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// mustParse parses src or fails the test.
func mustParse(t *testing.T, src string) *Topology {
	t.Helper()
	topo, err := Parse("test.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Parse:\n%v", err)
	}
	return topo
}

// nodesYAML declares n nodes called n1..nN on 10.0.0.1..N.
func nodesYAML(n int) string {
	var b strings.Builder
	b.WriteString("nodes:\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "  n%d: {address: 10.0.0.%d}\n", i, i)
	}
	return b.String()
}

func TestMeshExpansion(t *testing.T) {
	for _, n := range []int{2, 3, 4, 7} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			var members []string
			for i := 1; i <= n; i++ {
				members = append(members, fmt.Sprintf("n%d", i))
			}
			topo := mustParse(t, "name: mesh\n"+nodesYAML(n)+
				"peerings:\n  - mesh: ["+strings.Join(members, ", ")+"]\n    password: pw\n")
			if got, want := len(topo.Sessions), n*(n-1)/2; got != want {
				t.Fatalf("%d-node mesh: %d sessions, want %d", n, got, want)
			}
			// In order: (n1,n2), (n1,n3), …, (n2,n3), …
			k := 0
			for i := 0; i < n; i++ {
				for j := i + 1; j < n; j++ {
					s := topo.Sessions[k]
					if s.A != members[i] || s.B != members[j] || s.Kind != SessionMesh || s.Password != "pw" || s.Line != n+4 {
						t.Errorf("session %d = %+v, want mesh %s-%s with password, line %d", k, s, members[i], members[j], n+4)
					}
					k++
				}
			}
		})
	}
}

func TestRouteReflectorExpansion(t *testing.T) {
	topo := mustParse(t, `name: rr
nodes:
  rr1: {address: 10.0.0.10, role: route-reflector}
  c1: {address: 10.0.0.1}
  c2: {address: 10.0.0.2}
  c3: {address: 10.0.0.3}
peerings:
  - route-reflector: rr1
    clients: [c3, c1, c2]
    passive: c1
    peer-asn: {rr1: 65099}
`)
	if len(topo.Sessions) != 3 {
		t.Fatalf("%d sessions, want 3", len(topo.Sessions))
	}
	for i, client := range []string{"c3", "c1", "c2"} {
		s := topo.Sessions[i]
		if s.Kind != SessionRouteReflector || s.A != "rr1" || s.B != client || s.Reflector != "rr1" {
			t.Errorf("session %d = %+v, want rr1 reflecting to %s", i, s, client)
		}
		wantPassive := ""
		if client == "c1" {
			wantPassive = "c1"
		}
		if s.Passive != wantPassive {
			t.Errorf("session %d passive %q, want %q", i, s.Passive, wantPassive)
		}
		if s.PeerASN["rr1"] != 65099 || len(s.PeerASN) != 1 {
			t.Errorf("session %d peer-asn %v, want rr1:65099", i, s.PeerASN)
		}
	}
	rr := topo.Node("rr1")
	if rr.ClusterID != rr.RouterID || rr.RouterID.String() != "10.0.0.10" {
		t.Errorf("rr1 cluster id %v router id %v, want both 10.0.0.10", rr.ClusterID, rr.RouterID)
	}
	if topo.Node("c1").ClusterID.IsValid() {
		t.Errorf("client has a cluster id")
	}
}

func TestDefaultsResolution(t *testing.T) {
	type want struct {
		kind                string
		asn                 uint32
		hold, ka, retry     time.Duration
		routerID, clusterID string
	}
	tests := []struct {
		name     string
		defaults string
		node     string
		want     want
	}{
		{"built-in", "", "{address: 10.0.0.1}",
			want{"gobgp", 64512, 9 * time.Second, 3 * time.Second, time.Second, "10.0.0.1", ""}},
		{"defaults block", "defaults: {asn: 65000, kind: bird2, timers: {hold: 90s, keepalive: 20s, connect-retry: 5s}}\n", "{address: 10.0.0.1}",
			want{"bird2", 65000, 90 * time.Second, 20 * time.Second, 5 * time.Second, "10.0.0.1", ""}},
		{"node wins", "defaults: {asn: 65000, kind: bird2, timers: {hold: 90s, keepalive: 20s}}\n",
			"{address: 10.0.0.1, asn: 65001, kind: bird, router-id: 1.2.3.4, timers: {hold: 60s, keepalive: 7s, connect-retry: 2s}}",
			want{"bird", 65001, 60 * time.Second, 7 * time.Second, 2 * time.Second, "1.2.3.4", ""}},
		{"keepalive follows hold", "", "{address: 10.0.0.1, timers: {hold: 30s}}",
			want{"gobgp", 64512, 30 * time.Second, 10 * time.Second, time.Second, "10.0.0.1", ""}},
		{"keepalive rounds down", "", "{address: 10.0.0.1, timers: {hold: 10s}}",
			want{"gobgp", 64512, 10 * time.Second, 3 * time.Second, time.Second, "10.0.0.1", ""}},
		{"node hold overrides defaults keepalive", "defaults: {timers: {hold: 9s, keepalive: 2s}}\n", "{address: 10.0.0.1, timers: {hold: 60s}}",
			want{"gobgp", 64512, 60 * time.Second, 20 * time.Second, time.Second, "10.0.0.1", ""}},
		{"defaults hold, node keepalive", "defaults: {timers: {hold: 30s}}\n", "{address: 10.0.0.1, timers: {keepalive: 5s}}",
			want{"gobgp", 64512, 30 * time.Second, 5 * time.Second, time.Second, "10.0.0.1", ""}},
		{"hold zero disables keepalive", "", "{address: 10.0.0.1, timers: {hold: 0}}",
			want{"gobgp", 64512, 0, 0, time.Second, "10.0.0.1", ""}},
		{"route reflector cluster id", "", "{address: 10.0.0.1, router-id: 9.9.9.9, role: route-reflector}",
			want{"gobgp", 64512, 9 * time.Second, 3 * time.Second, time.Second, "9.9.9.9", "9.9.9.9"}},
		{"explicit cluster id", "", "{address: 10.0.0.1, role: route-reflector, cluster-id: 1.1.1.1}",
			want{"gobgp", 64512, 9 * time.Second, 3 * time.Second, time.Second, "10.0.0.1", "1.1.1.1"}},
		{"ipv6 address", "", "{address: 'fd00::1', router-id: 1.1.1.1}",
			want{"gobgp", 64512, 9 * time.Second, 3 * time.Second, time.Second, "1.1.1.1", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := mustParse(t, "name: d\n"+tt.defaults+"nodes:\n  x: "+tt.node+"\n").Node("x")
			got := want{n.Kind, n.ASN, n.Timers.Hold, n.Timers.Keepalive, n.Timers.ConnectRetry, n.RouterID.String(), ""}
			if n.ClusterID.IsValid() {
				got.clusterID = n.ClusterID.String()
			}
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestSessionOptions(t *testing.T) {
	topo, err := Load(filepath.Join("testdata", "good", "calico-mesh.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(topo.Nodes) != 7 || len(topo.Sessions) != 3+2+1 || len(topo.Expectations) != 4 {
		t.Fatalf("%d nodes %d sessions %d expectations, want 7, 6, 4", len(topo.Nodes), len(topo.Sessions), len(topo.Expectations))
	}
	s := topo.Sessions[5]
	want := Session{Kind: SessionBetween, A: "tor", B: "node1", Password: "s3cret", Passive: "node1", Multihop: 2, TTLSecurity: 254, Line: 17}
	if s.Kind != want.Kind || s.A != want.A || s.B != want.B || s.Password != want.Password || s.Passive != want.Passive ||
		s.Multihop != want.Multihop || s.TTLSecurity != want.TTLSecurity || s.Line != want.Line {
		t.Errorf("between session = %+v, want %+v", s, want)
	}
	// Session timers: hold from the session, the rest from `defaults:`
	// (keepalive derived from the session's own hold).
	if s.Timers == nil || *s.Timers != (Timers{Hold: 3 * time.Second, Keepalive: time.Second, ConnectRetry: time.Second}) {
		t.Errorf("session timers = %+v", s.Timers)
	}
	if s.PeerASN["tor"] != 65099 || len(s.PeerASN) != 1 {
		t.Errorf("peer-asn = %v", s.PeerASN)
	}
	if !slices.Equal(s.Families, []string{FamilyIPv4Unicast, FamilyIPv6Unicast}) {
		t.Errorf("families = %v", s.Families)
	}
	if topo.Sessions[0].Timers != nil || topo.Sessions[0].Passive != "" {
		t.Errorf("mesh session has options it was not given: %+v", topo.Sessions[0])
	}
	tor := topo.Node("tor")
	if len(tor.Prefixes) != 2 || tor.Prefixes[1].Prepend != 2 || tor.Prefixes[1].NextHop.String() != "10.0.0.254" ||
		!slices.Equal(tor.Prefixes[1].Communities, []string{"65001:100"}) || tor.Prefixes[0].NextHop.IsValid() {
		t.Errorf("tor prefixes = %+v", tor.Prefixes)
	}
	if tor.Timers != (Timers{Hold: 30 * time.Second, Keepalive: 10 * time.Second, ConnectRetry: time.Second}) {
		t.Errorf("tor timers = %+v", tor.Timers)
	}
	e := topo.Expectations
	if e[0].Kind != ExpectEstablished || !slices.Equal(e[0].Nodes, []string{"node1", "node2"}) || e[0].Within != 10*time.Second {
		t.Errorf("expect[0] = %+v", e[0])
	}
	if e[3].Kind != ExpectNoRoute || e[3].At != "node2" || e[3].Route.String() != "192.168.9.0/24" || e[3].Within != DefaultWithin {
		t.Errorf("expect[3] = %+v", e[3])
	}
}

func TestDefaultFamilies(t *testing.T) {
	topo := mustParse(t, `name: fam
nodes:
  a: {address: 10.0.0.1}
  b: {address: 10.0.0.2, prefixes: ['2001:db8::/32']}
  c: {address: 10.0.0.3}
peerings:
  - mesh: [a, b, c]
`)
	want := map[string][]string{
		"a-b": {FamilyIPv4Unicast, FamilyIPv6Unicast},
		"a-c": {FamilyIPv4Unicast},
		"b-c": {FamilyIPv4Unicast, FamilyIPv6Unicast},
	}
	for _, s := range topo.Sessions {
		if got := s.Families; !slices.Equal(got, want[s.A+"-"+s.B]) {
			t.Errorf("%s-%s families %v, want %v", s.A, s.B, got, want[s.A+"-"+s.B])
		}
	}
}

func TestEstablishedAll(t *testing.T) {
	topo := mustParse(t, "name: all\n"+nodesYAML(2)+"peerings:\n  - between: [n2, n1]\nexpect:\n  - established: all\n")
	e := topo.Expectations[0]
	if !e.All || len(e.Nodes) != 0 || e.Kind != ExpectEstablished || e.Line != 8 {
		t.Errorf("established: all = %+v", e)
	}
}

func TestExtensionKeysAndMergeKeys(t *testing.T) {
	topo, err := Load(filepath.Join("testdata", "good", "anchors.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"w1", "w2"} {
		n := topo.Node(name)
		if n == nil || n.Timers.Hold != 30*time.Second || n.Timers.Keepalive != 10*time.Second {
			t.Errorf("node %s = %+v, want the merged x-worker timers", name, n)
		}
	}
}
