package topology

import (
	"maps"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestFaultRulesCoverCatalogue(t *testing.T) {
	names := FaultNames()
	if len(names) == 0 {
		t.Fatal("FaultNames() is empty")
	}
	sorted := slices.Sorted(slices.Values(names))
	if len(slices.Compact(sorted)) != len(names) {
		t.Errorf("FaultNames() has duplicates: %v", names)
	}
	rules := faultRules()
	if got := slices.Sorted(maps.Keys(rules)); !slices.Equal(got, sorted) {
		t.Errorf("faultRules() covers %v, FaultNames() is %v", got, sorted)
	}
}

func TestFaultsAndLinksLoaded(t *testing.T) {
	topo, err := Load(filepath.Join("testdata", "good", "faults-links.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	type fault struct {
		name, node, peer string
		at, heal         time.Duration
		params           map[string]string
		line             int
	}
	want := []fault{
		{"tcp179-drop", "worker1", "master", 5 * time.Second, 20 * time.Second, nil, 18},
		{"tcp179-drop", "worker1", "", 20 * time.Second, time.Minute, nil, 23},
		{"netem", "worker2", "", 0, 0, map[string]string{"delay": "100ms", "jitter": "10ms", "loss": "10"}, 27},
		{"netem", "master", "", 10 * time.Second, 0, map[string]string{"loss": "0.5"}, 31},
		// Defaults that follow from the topology are filled in.
		{"as-mismatch", "master", "tor", 90 * time.Second, 0, map[string]string{"asn": "65002"}, 35},
		{"router-id-conflict", "worker2", "worker1", 2 * time.Minute, 0, map[string]string{"router-id": "10.0.0.2"}, 39},
		{"md5-mismatch", "tor", "master", 2 * time.Minute, 0, map[string]string{"password": DefaultFaultPassword}, 43},
		{"snat-node-traffic", "worker1", "", 3 * time.Second, 0, map[string]string{"address": "10.0.0.200"}, 47},
		{"bird-down", "worker2", "", 0, 500 * time.Millisecond, nil, 51},
	}
	if len(topo.Faults) != len(want) {
		t.Fatalf("%d faults, want %d", len(topo.Faults), len(want))
	}
	for i, f := range topo.Faults {
		got := fault{f.Name, f.Node, f.Peer, f.At, f.HealAt, f.Params, f.Line}
		w := want[i]
		if got.name != w.name || got.node != w.node || got.peer != w.peer || got.at != w.at ||
			got.heal != w.heal || !maps.Equal(got.params, w.params) || got.line != w.line {
			t.Errorf("faults[%d] = %+v\nwant        %+v", i, got, w)
		}
	}
	wantLinks := []Link{
		{A: "tor", B: "master", AAddr: netip.MustParsePrefix("10.1.0.1/30"), BAddr: netip.MustParsePrefix("10.1.0.2/30"), Line: 13},
		{A: "tor", B: "worker1", AAddr: netip.MustParsePrefix("fd00:1::1/64"), BAddr: netip.MustParsePrefix("fd00:1::2/64"), Line: 15},
	}
	if len(topo.Links) != len(wantLinks) {
		t.Fatalf("%d links, want %d", len(topo.Links), len(wantLinks))
	}
	for i, l := range topo.Links {
		if *l != wantLinks[i] {
			t.Errorf("links[%d] = %+v, want %+v", i, *l, wantLinks[i])
		}
	}
}

// faultTopology is a lab of three nodes in a mesh (n1 AS 65001, n2 AS
// 65002, n3 AS 4294967295) plus n4 without sessions, with faults appended.
func faultTopology(faults string) string {
	return `name: f
nodes:
  n1: {address: 10.0.0.1, asn: 65001}
  n2: {address: 10.0.0.2, asn: 65002}
  n3: {address: 10.0.0.3, asn: 4294967295}
  n4: {address: 10.0.0.4}
peerings:
  - mesh: [n1, n2, n3]
faults:
` + faults
}

func TestFaultParams(t *testing.T) {
	tests := []struct {
		name  string
		fault string
		want  map[string]string // nil with err set
		err   string            // a fragment of the error, "" for none
	}{
		{"durations canonical", "{fault: netem, params: {delay: 1m, jitter: 1500us}}", map[string]string{"delay": "1m0s", "jitter": "1.5ms"}, ""},
		{"loss only", "{fault: netem, params: {loss: 100}}", map[string]string{"loss": "100"}, ""},
		{"loss string percent", `{fault: netem, params: {loss: "12.5%"}}`, map[string]string{"loss": "12.5"}, ""},
		{"zero delay with loss", "{fault: netem, params: {delay: 0, loss: 1}}", map[string]string{"delay": "0s", "loss": "1"}, ""},
		{"null param is absent", "{fault: netem, params: {delay: 5ms, loss: ~}}", map[string]string{"delay": "5ms"}, ""},
		{"netem needs params", "{fault: netem}", nil, "netem needs at least one of delay, jitter, loss"},
		{"netem nothing to do", "{fault: netem, params: {delay: 0s, loss: 0}}", nil, "netem with no delay and no loss changes nothing"},
		{"loss negative", "{fault: netem, params: {loss: -1}}", nil, "-1 is not a percentage"},
		{"loss word", "{fault: netem, params: {loss: lots}}", nil, `"lots" is not a percentage`},
		{"loss quoted without percent", `{fault: netem, params: {loss: "10"}}`, nil, `"10" is not a percentage`},
		{"delay negative", "{fault: netem, params: {delay: -1s}}", nil, "-1s is negative"},
		{"delay too long", "{fault: netem, params: {delay: 2h}}", nil, "longer than netem allows"},
		{"delay as list", "{fault: netem, params: {delay: [1s]}}", nil, "expected a duration"},
		{"as-mismatch default", "{fault: as-mismatch, peer: n2}", map[string]string{"asn": "65003"}, ""},
		{"as-mismatch default at max AS", "{fault: as-mismatch, peer: n3}", map[string]string{"asn": "4294967294"}, ""},
		{"as-mismatch explicit", "{fault: as-mismatch, peer: n2, params: {asn: 4200000000}}", map[string]string{"asn": "4200000000"}, ""},
		{"as-mismatch without peer", "{fault: as-mismatch}", nil, ""},
		{"as-mismatch real AS", "{fault: as-mismatch, peer: n2, params: {asn: 65002}}", nil, "65002 is n2's real AS"},
		{"as-mismatch AS out of range", "{fault: as-mismatch, params: {asn: 0}}", nil, "0 is not a valid AS number"},
		{"router-id default", "{fault: router-id-conflict, peer: n3}", map[string]string{"router-id": "10.0.0.3"}, ""},
		{"router-id explicit without peer", "{fault: router-id-conflict, params: {router-id: 1.2.3.4}}", map[string]string{"router-id": "1.2.3.4"}, ""},
		{"router-id ipv6", `{fault: router-id-conflict, params: {router-id: "fd00::1"}}`, nil, "is not an IPv4 address"},
		{"md5 default password", "{fault: md5-one-sided}", map[string]string{"password": DefaultFaultPassword}, ""},
		{"md5 password", "{fault: md5-mismatch, peer: n2, params: {password: other}}", map[string]string{"password": "other"}, ""},
		{"md5 empty password", `{fault: md5-mismatch, params: {password: ""}}`, nil, "password must not be empty"},
		{"address", "{fault: wrong-ip-autodetect, params: {address: 192.168.7.1}}", map[string]string{"address": "192.168.7.1"}, ""},
		{"address optional", "{fault: source-ip-missing}", nil, ""},
		{"address not an address", "{fault: source-ip-missing, params: {address: eth0}}", nil, `"eth0" is not an IP address`},
		{"param of another fault", "{fault: as-mismatch, params: {password: x}}", nil, "as-mismatch takes asn"},
		{"no params fault", "{fault: port179-in-use, params: {address: 10.0.0.9}}", nil, "port179-in-use takes no params"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			item := strings.Replace(tt.fault, "{", "{at: 1s, node: n1, ", 1)
			topo, err := Parse("f.yaml", []byte(faultTopology("  - "+item+"\n")))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := topo.Faults[0].Params; !maps.Equal(got, tt.want) {
				t.Errorf("params %v, want %v", got, tt.want)
			}
		})
	}
}

func TestFaultOverlap(t *testing.T) {
	tests := []struct {
		name   string
		faults string
		err    string // "" when the schedule is valid
	}{
		{"back to back", "{at: 1s, heal-at: 5s, fault: tcp179-drop, node: n1}\n  - {at: 5s, fault: tcp179-drop, node: n1}", ""},
		{"second starts before first heals", "{at: 1s, heal-at: 5s, fault: tcp179-drop, node: n1}\n  - {at: 4s, heal-at: 9s, fault: tcp179-drop, node: n1}",
			"faults[1]: tcp179-drop on n1 overlaps faults[0]"},
		{"second heals after first starts", "{at: 10s, fault: link-down, node: n1}\n  - {at: 1s, heal-at: 11s, fault: link-down, node: n1}",
			"faults[1]: link-down on n1 overlaps faults[0]"},
		{"never healed", "{at: 1s, fault: netem, node: n1, params: {loss: 1}}\n  - {at: 1h, fault: netem, node: n1, params: {loss: 2}}",
			"(line 10, from 1s, never healed)"},
		{"other node", "{at: 1s, fault: tcp179-drop, node: n1}\n  - {at: 1s, fault: tcp179-drop, node: n2}", ""},
		{"other fault", "{at: 1s, fault: tcp179-drop, node: n1}\n  - {at: 1s, fault: tcp179-reject, node: n1}", ""},
		{"per-node fault, other peer", "{at: 1s, fault: tcp179-drop, node: n1, peer: n2}\n  - {at: 1s, fault: tcp179-drop, node: n1, peer: n3}",
			"a node holds one tcp179-drop at a time, whatever the peer"},
		{"session fault, other peer", "{at: 1s, fault: as-mismatch, node: n1, peer: n2}\n  - {at: 1s, fault: as-mismatch, node: n1, peer: n3}", ""},
		{"session fault, same peer", "{at: 1s, fault: md5-mismatch, node: n1, peer: n2}\n  - {at: 2s, fault: md5-mismatch, node: n1, peer: n2}",
			"md5-mismatch on n1 overlaps faults[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("f.yaml", []byte(faultTopology("  - "+tt.faults+"\n")))
			switch {
			case tt.err == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Errorf("error %v, want one containing %q", err, tt.err)
			}
		})
	}
}

func TestFaultReferences(t *testing.T) {
	tests := []struct {
		name  string
		fault string
		err   string
	}{
		{"peer with session", "{at: 0s, fault: tcp179-reject, node: n1, peer: n3}", ""},
		{"unknown node", "{at: 0s, fault: tcp179-reject, node: n9}", `faults[0].node: unknown node "n9"`},
		{"unknown peer", "{at: 0s, fault: tcp179-reject, node: n1, peer: n9}", `faults[0].peer: unknown node "n9"`},
		{"peer without session", "{at: 0s, fault: tcp179-reject, node: n1, peer: n4}", "faults[0].peer: n4 has no session with n1"},
		{"peer is node", "{at: 0s, fault: tcp179-reject, node: n1, peer: n1}", "faults[0].peer: the peer must be another node than n1"},
		{"session fault without sessions", "{at: 0s, fault: md5-one-sided, node: n4}", "n4 has no BGP session for md5-one-sided"},
		{"network fault without sessions", "{at: 0s, fault: link-down, node: n4}", ""},
		{"heal-at equal to at", "{at: 5s, heal-at: 5s, fault: link-down, node: n1}", "faults[0].heal-at: 5s is not after at (5s)"},
		{"at written as zero", "{at: 0, fault: link-down, node: n1}", ""},
		{"unknown fault", "{at: 0s, fault: TCP179-drop, node: n1}", `"TCP179-drop" is not a fault`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("f.yaml", []byte(faultTopology("  - "+tt.fault+"\n")))
			switch {
			case tt.err == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Errorf("error %v, want one containing %q", err, tt.err)
			}
		})
	}
}
