package topology

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden .err files under testdata/bad")

// badCases names, for every file under testdata/bad, one error it must
// produce: line, field path and a message fragment. The .err golden file
// beside it holds the full expected text.
var badCases = map[string]struct {
	line     int
	path     string
	contains string
}{
	"empty":                   {0, "", "file is empty"},
	"comments-only":           {0, "", "file is empty"},
	"syntax":                  {3, "", "invalid YAML: did not find expected ',' or '}'"},
	"syntax-flow-list":        {4, "", "invalid YAML: did not find expected ',' or ']'"},
	"syntax-tab":              {3, "", "invalid YAML: found character that cannot start any token"},
	"unknown-key":             {5, "nodes.n1.asnn", `unknown key "asnn"`},
	"unknown-top-key":         {2, "node", `unknown key "node" (expected one of: name, defaults, nodes, peerings, expect, faults, links, duration, calico)`},
	"calico-bad-selector":     {8, "calico.bgppeers[0].peer-selector", `is not a Calico selector`},
	"calico-peer-no-asn":      {7, "calico.bgppeers[0]", "as-number is required with peer-ip"},
	"calico-peer-bad-ip":      {7, "calico.bgppeers[0].peer-ip", `"10.0.0.300" is not an IPv4 address`},
	"calico-node-not-calico":  {7, "calico.nodes.tor", "tor is not a node with role calico-node"},
	"calico-secret-missing":   {12, "calico.bgppeers[0].password.secret-key-ref", `secret bgp-secrets has no key "tor-password"`},
	"calico-unknown-key":      {6, "calico.bgpconfiguration.node-to-node-mesh", `unknown key "node-to-node-mesh"`},
	"asn-too-big":             {5, "nodes.worker1.asn", "4294967296 is not a valid AS number"},
	"asn-zero":                {3, "defaults.asn", "0 is not a valid AS number"},
	"asn-string":              {3, "nodes.n1.asn", `expected a number, got string "65001"`},
	"bad-lab-name":            {1, "name", `lab name "Calico_Mesh" is invalid`},
	"lab-name-too-long":       {1, "name", "1 to 32"},
	"missing-name":            {0, "name", "name is required"},
	"bad-node-name":           {4, "nodes.Worker1", `node name "Worker1" is invalid`},
	"missing-address":         {4, "nodes.n2.address", "address is required"},
	"invalid-address":         {3, "nodes.n1.address", `"10.0.0.300" is not an IP address`},
	"duplicate-address":       {4, "nodes.n1.address", "address 10.0.0.1 is already used by node n2"},
	"unknown-kind":            {3, "nodes.n1.kind", `unknown kind "frr"`},
	"unknown-role":            {3, "nodes.n1.role", `unknown role "reflector"`},
	"cluster-id-non-rr":       {6, "nodes.n2.cluster-id", "cluster-id is only valid on a node with role: route-reflector"},
	"router-id-ipv6":          {3, "nodes.n1.router-id", "is not an IPv4 address"},
	"router-id-missing-ipv6":  {3, "nodes.n1.router-id", "router-id is required when the address is IPv6"},
	"peering-missing-node":    {9, "peerings[2].between[1]", `unknown node "node3"`},
	"mesh-one-node":           {5, "peerings[0].mesh", "a mesh needs at least 2 nodes, got 1"},
	"node-twice":              {9, "peerings[0].mesh[2]", `node "a" is listed twice (also at peerings[0].mesh[0])`},
	"pair-twice":              {8, "peerings[1].between", "c and a already have a session (declared at peerings[0].mesh, line 7)"},
	"rr-no-clients":           {5, "peerings[0].clients", "a route reflector needs at least one client"},
	"rr-not-reflector":        {6, "peerings[0].route-reflector", "node rr1 is not a route reflector"},
	"between-three":           {7, "peerings[0].between", "between needs exactly 2 nodes, got 3"},
	"two-forms":               {6, "peerings[0]", "got mesh and between"},
	"bad-duration":            {4, "defaults.timers.hold", `"9" is not a duration`},
	"hold-too-short":          {6, "nodes.a.timers.hold", "hold time 2s must be 0 or at least 3s (RFC 4271)"},
	"keepalive-ge-hold":       {8, "nodes.a.timers.keepalive", "keepalive 9s must be less than hold time 9s"},
	"bad-prefix":              {7, "nodes.a.prefixes[1].prefix", `"192.168.300.0/24" is not a prefix`},
	"host-bits":               {5, "nodes.a.prefixes[0].prefix", "has host bits set (did you mean 192.168.0.0/24?)"},
	"bad-next-hop":            {7, "nodes.a.prefixes[0].next-hop", `"gateway" is not an IP address`},
	"bad-community":           {7, "nodes.a.prefixes[0].communities[1]", `"65001:70000" is not a community`},
	"prepend-range":           {6, "nodes.a.prefixes[0].prepend", "prepend 11 is out of range 0..10"},
	"passive-not-in-session":  {8, "peerings[0].passive", `passive names "c", which is not in this peering`},
	"peer-asn-not-in-session": {9, "peerings[0].peer-asn.c", `peer-asn names "c", which is not in this peering`},
	"unknown-family":          {7, "peerings[0].families[1]", `unknown family "l2vpn-evpn"`},
	"expect-missing-node":     {9, "expect[0].at", `unknown node "c"`},
	"expect-no-session":       {10, "expect[1].not-established", "there is no session between a and c"},
	"expect-bad-route":        {5, "expect[0].no-route", `"192.168.0.0" is not a prefix`},
	"expect-two-kinds":        {8, "expect[0]", "got established and route"},
	"no-nodes":                {2, "nodes", "at least one node is required"},
	"duplicate-key":           {4, "nodes.a", `duplicate key "a" (first at line 3)`},
	"uppercase-key":           {3, "nodes.a.Address", `key "Address" must be lower-case`},
	"wrong-type":              {4, "nodes.a.address", "expected a string, got a list"},
	"type-errors":             {7, "peerings[0].mesh", "expected a list, got a string"},
	"two-documents":           {4, "", "only one YAML document is allowed"},
	"not-a-mapping":           {1, "", "the top level must be a mapping"},
	"many-errors":             {10, "peerings[0].multihop", "300 is out of range 0..255"},
	// faults:
	"fault-unknown":              {6, "faults[0].fault", `"tcp-drop" is not a fault (known: tcp179-drop, tcp179-reject,`},
	"roles-invalid":              {5, "nodes.worker1.roles[1]", `unknown role "mayor" (known: apiserver, calico-node, kubespray-worker)`},
	"roles-fault-node":           {11, "faults[0].node", "apiserver-proxy-down needs a node with role kubespray-worker; master has roles apiserver, calico-node"},
	"fault-heal-before-at":       {9, "faults[1].heal-at", "3s is not after at (5s)"},
	"fault-peer-no-session":      {12, "faults[0].peer", "node2 has no session with node1"},
	"fault-loss-range":           {10, "faults[0].params.loss", "150 is not a percentage"},
	"fault-unknown-param":        {11, "faults[2].params.color", "netem takes delay, jitter, loss"},
	"fault-unknown-key":          {7, "faults[0].nodes", `unknown key "nodes" (expected one of: name, at, fault, node, peer, heal-at, params)`},
	"fault-missing-keys":         {5, "faults[0].fault", "fault is required: one of tcp179-drop"},
	"fault-no-params":            {8, "faults[0].params.delay", "tcp179-drop takes no params"},
	"fault-negative-at":          {5, "faults[0].at", "-5s is negative"},
	"fault-jitter":               {13, "faults[1].params.jitter", "jitter 20ms is more than delay 10ms"},
	"fault-overlap":              {11, "faults[2]", "tcp179-drop on node1 overlaps faults[0] (line 9, from 5s to 30s)"},
	"fault-param-types":          {10, "faults[2].params.asn", "65002 is node2's real AS"},
	"fault-needs-session":        {8, "faults[0].node", "node1 has no BGP session for hold-timer-expiry"},
	"router-id-conflict-no-peer": {8, "faults[0]", "router-id-conflict needs a peer"},
	// links:
	"link-subnet":        {9, "links[0].addresses.b", "10.1.0.2/30 is not in the same subnet as a's 10.1.1.1/30"},
	"routes-too-many":    {9, "nodes.a.routes[1].generate", "10.1.0.0/16 holds only 256 /24 prefixes, 300 asked"},
	"routes-mixed":       {5, "nodes.a.routes[0]", "give either generate: or mrt:, not both"},
	"routes-mrt-keys":    {7, "nodes.a.routes[0].length", "length is only valid with generate:"},
	"routes-bird":        {6, "nodes.a.routes", "routes: is only supported on gobgp and injector nodes"},
	"injector-md5":       {7, "peerings[0].password", "does not sign TCP segments (MD5)"},
	"injector-rr":        {3, "nodes.rr.role", "keeps no RIB, so it cannot reflect routes"},
	"injector-mixed":     {3, "nodes.up", "must be all iBGP or all eBGP"},
	"injector-route-at":  {9, "expect[0].at", "is an injector, which keeps no routes"},
	"routes-order":       {5, "nodes.a.routes[0].order", `unknown order "random"`},
	"routes-no-source":   {6, "nodes.a.routes[0]", "a route source needs generate: N (with from:) or mrt: FILE"},
	"routes-unknown-key": {8, "nodes.a.routes[0].med", `unknown key "med"`},
	"link-missing-node":  {6, "links[0].between[1]", `unknown node "c"`},
	"link-same-node":     {6, "links[0].between[1]", `node "a" is listed twice`},
	"link-node-address":  {7, "links[0].addresses.b", "address 10.0.0.1 is node a's address"},
	"link-overlap":       {10, "links[1].addresses", "subnet 10.1.0.0/24 overlaps the subnet 10.1.0.0/30 of links[0]"},
	"link-addresses":     {8, "links[0].addresses.a", "10.1.0.0/30 is the subnet's network address"},
	// Scenarios over time (issue 15).
	"expect-after-unknown":   {14, "expect[0].after", `"a-dwn" is neither a duration nor the name of a fault (named faults: a-down)`},
	"expect-heal-never":      {14, "expect[0].after", "fault a-down (line 8) is never healed"},
	"expect-for-negative":    {10, "expect[0].for", "for is not valid with not-established"},
	"expect-diagnosis-gobgp": {8, "expect[0].diagnosis", "node a is a gobgp node: the live diagnosis reads a BIRD node"},
	"expect-diagnosis-cause": {10, "expect[0].cause", `"tcp-179-dropped" is not a diagnosis cause`},
	"expect-readiness-role":  {9, "expect[0].readiness", "node a needs role calico-node"},
	"expect-state-bad":       {10, "expect[0].at", `"c" is not an end of the session a <-> b`},
	"expect-key-wrong-kind":  {9, "expect[0].ready", "ready is only valid with readiness"},
	"fault-name-duplicate":   {10, "faults[1].name", `another fault is already named "flap" (line 9)`},
	"duration-zero":          {2, "duration", "duration must be longer than 0s"},
}

func TestBadTopologies(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "bad", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 20 {
		t.Fatalf("found %d bad topologies under testdata/bad, want at least 20", len(files))
	}
	var names []string
	for _, f := range files {
		names = append(names, strings.TrimSuffix(filepath.Base(f), ".yaml"))
	}
	for name := range badCases {
		if !slices.Contains(names, name) {
			t.Errorf("badCases has %q but testdata/bad/%s.yaml does not exist", name, name)
		}
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		t.Run(name, func(t *testing.T) {
			want, ok := badCases[name]
			if !ok {
				t.Fatalf("no entry in badCases for %s", f)
			}
			topo, err := Load(f)
			if err == nil {
				t.Fatalf("Load(%s) = %+v, want an error", f, topo)
			}
			if topo != nil {
				t.Errorf("Load returned a topology together with an error")
			}
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("errors.As(%T, *ErrorList) failed", err)
			}
			found := false
			for _, e := range list {
				if e.File != filepath.Base(f) {
					t.Errorf("error %q names file %q, want %q", e, e.File, filepath.Base(f))
				}
				if e.Line == want.line && e.Path == want.path && strings.Contains(e.Msg, want.contains) {
					found = true
				}
			}
			if !found {
				t.Errorf("no error at line %d path %q containing %q; got:\n%v", want.line, want.path, want.contains, err)
			}
			golden := strings.TrimSuffix(f, ".yaml") + ".err"
			got := err.Error() + "\n"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			exp, rerr := os.ReadFile(golden)
			if rerr != nil {
				t.Fatalf("read golden (run go test -update to create it): %v", rerr)
			}
			if got != string(exp) {
				t.Errorf("error text differs from %s:\ngot:\n%swant:\n%s", golden, got, exp)
			}
		})
	}
}

func TestManyErrorsAreAllReported(t *testing.T) {
	_, err := Load(filepath.Join("testdata", "bad", "many-errors.yaml"))
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("want an ErrorList, got %T: %v", err, err)
	}
	wantPaths := []string{"defaults.asn", "nodes.a.kind", "nodes.b.address", "peerings[0].multihop", "expect[0].established"}
	var got []string
	for _, e := range list {
		got = append(got, e.Path)
	}
	for _, p := range wantPaths {
		if !slices.Contains(got, p) {
			t.Errorf("no error at %s; got paths %v", p, got)
		}
	}
	for i := 1; i < len(list); i++ {
		if list[i].Line < list[i-1].Line {
			t.Errorf("errors not sorted by line: %d after %d", list[i].Line, list[i-1].Line)
		}
	}
	var first *Error
	if !errors.As(err, &first) || first != list[0] {
		t.Errorf("errors.As(ErrorList, **Error) = %v, want the first error %v", first, list[0])
	}
}

func TestGoodTopologies(t *testing.T) {
	own, err := filepath.Glob(filepath.Join("testdata", "good", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(own) == 0 {
		t.Fatal("no good topologies under testdata/good")
	}
	// The shipped topologies must always load; there may be none yet.
	shipped, err := filepath.Glob(filepath.Join("..", "..", "topologies", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range append(own, shipped...) {
		t.Run(f, func(t *testing.T) {
			topo, err := Load(f)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			checkInvariants(t, topo)
			if topo.Source != f {
				t.Errorf("Source = %q, want %q", topo.Source, f)
			}
		})
	}
}

// checkInvariants asserts what every valid topology guarantees to the
// stages after the loader.
func checkInvariants(t *testing.T, topo *Topology) {
	t.Helper()
	if topo.Name == "" || len(topo.Nodes) == 0 {
		t.Fatalf("name %q, %d nodes", topo.Name, len(topo.Nodes))
	}
	if !slices.IsSortedFunc(topo.Nodes, func(a, b *Node) int { return strings.Compare(a.Name, b.Name) }) {
		t.Errorf("nodes not in name order")
	}
	for _, n := range topo.Nodes {
		if !n.Address.IsValid() || !n.RouterID.Is4() || n.ASN == 0 || n.Line == 0 {
			t.Errorf("node %s incomplete: %+v", n.Name, n)
		}
		if (n.Role == RoleRouteReflector) != n.ClusterID.IsValid() {
			t.Errorf("node %s: role %q with cluster id %v", n.Name, n.Role, n.ClusterID)
		}
	}
	pairs := map[pairKey]bool{}
	for _, s := range topo.Sessions {
		if topo.Node(s.A) == nil || topo.Node(s.B) == nil || s.A == s.B {
			t.Errorf("session %s-%s names a missing node", s.A, s.B)
		}
		if pairs[keyOf(s.A, s.B)] {
			t.Errorf("pair %s-%s twice", s.A, s.B)
		}
		pairs[keyOf(s.A, s.B)] = true
		if len(s.Families) == 0 || s.Line == 0 {
			t.Errorf("session %s-%s: families %v line %d", s.A, s.B, s.Families, s.Line)
		}
	}
	for _, e := range topo.Expectations {
		if e.Within <= 0 || e.Line == 0 {
			t.Errorf("expectation %+v: bad within or line", e)
		}
	}
	for _, f := range topo.Faults {
		if !slices.Contains(FaultNames(), f.Name) || topo.Node(f.Node) == nil || f.At < 0 || f.Line == 0 {
			t.Errorf("fault %+v: unknown name or node, negative at, or no line", f)
		}
		if f.HealAt != 0 && f.HealAt <= f.At {
			t.Errorf("fault %+v heals before it starts", f)
		}
		if f.Peer != "" && !pairs[keyOf(f.Node, f.Peer)] {
			t.Errorf("fault %+v: no session between node and peer", f)
		}
	}
	for _, l := range topo.Links {
		if topo.Node(l.A) == nil || topo.Node(l.B) == nil || l.A == l.B || l.Line == 0 {
			t.Errorf("link %+v: bad ends or no line", l)
		}
		if l.AAddr.Masked() != l.BAddr.Masked() || l.AAddr.Addr() == l.BAddr.Addr() {
			t.Errorf("link %+v: ends not in one subnet, or equal", l)
		}
	}
}
