package diagnose

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// clusterOf builds a cluster from inline inputs keyed "node/name".
func clusterOf(t *testing.T, files map[string]string) *Cluster {
	t.Helper()
	reg := DefaultRegistry()
	c := &Cluster{}
	keys := make([]string, 0, len(files))
	for k := range files {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		node, _, _ := strings.Cut(k, "/")
		rec := reg.Recognize(k, []byte(files[k]))
		if len(rec.Evidence) == 0 {
			t.Fatalf("%s: not recognised", k)
		}
		c.Add(node, k, rec)
	}
	return c
}

// got renders findings as "cause/confidence/node/peer".
func got(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, fmt.Sprintf("%s/%s/%s/%s", f.Cause, f.Confidence, f.Node, f.Peer))
	}
	return out
}

const (
	hdr16   = "BIRD 1.6.8 ready.\nname     proto    table    state  since       info\ndevice1  Device   master   up     09:00:01\n"
	ssHdr   = "State  Recv-Q Send-Q Local Address:Port  Peer Address:Port Process\n"
	addr2   = "eth0 UP 10.0.0.2/24\n"
	refused = hdr16 + "Mesh_10_0_0_2 BGP master start 09:00:01 Active Socket: Connection refused\n"
)

func TestRules(t *testing.T) {
	tests := []struct {
		name  string
		rule  func(*Cluster) []Finding
		files map[string]string
		want  []string
	}{
		{"refused, peer ss shows bird", ruleConnectionRefused, map[string]string{
			"a/p": refused, "b/ss": ssHdr + "LISTEN 0 8 0.0.0.0:179 0.0.0.0:* users:((\"bird\",pid=1,fd=7))\n", "b/ip": addr2,
		}, []string{"tcp179-rejected/high/a/10.0.0.2"}},
		{"refused, peer ss shows nothing on 179", ruleConnectionRefused, map[string]string{
			"a/p": refused, "b/ss": ssHdr, "b/ip": addr2,
		}, []string{"peer-bird-down/high/a/10.0.0.2"}},
		{"refused, peer ss shows another daemon", ruleConnectionRefused, map[string]string{
			"a/p": refused, "b/ss": ssHdr + "LISTEN 0 8 0.0.0.0:179 0.0.0.0:* users:((\"gobgpd\",pid=1,fd=7))\n", "b/ip": addr2,
		}, []string{"port179-in-use/high/a/10.0.0.2"}},
		{"refused, no peer evidence: two candidates", ruleConnectionRefused, map[string]string{"a/p": refused},
			[]string{"peer-bird-down/medium/a/10.0.0.2", "tcp179-rejected/low/a/10.0.0.2"}},
		{"refused, peer unconfigured: left to the unconfigured rule", ruleConnectionRefused, map[string]string{
			"a/p": refused, "b/p": hdr16, "b/ip": addr2,
		}, nil},
		{"established: nothing", ruleConnectionRefused, map[string]string{
			"a/p": hdr16 + "Mesh_10_0_0_2 BGP master up 09:00:01 Established\n",
		}, nil},
		{"timed out", ruleConnectTimeout, map[string]string{
			"a/p": hdr16 + "Mesh_10_0_0_2 BGP master start 09:00:01 Connect Socket: Connection timed out\n",
		}, []string{"tcp179-dropped/medium/a/10.0.0.2"}},
		{"passive is not a timeout", ruleConnectTimeout, map[string]string{
			"a/p": hdr16 + "Mesh_10_0_0_2 BGP master start 09:00:01 Passive\n",
		}, nil},
		{"passive waiting for an unseen peer", rulePassiveWaiting, map[string]string{
			"a/p": hdr16 + "Mesh_10_0_0_2 BGP master start 09:00:01 Passive\n",
		}, []string{"peer-bird-unconfigured/low/a/10.0.0.2", "peer-bird-down/low/a/10.0.0.2", "tcp179-dropped/low/a/10.0.0.2"}},
		{"no route with covering route", ruleNoRoute, map[string]string{
			"a/p": hdr16 + "Mesh_10_0_0_2 BGP master start 09:00:01 Active Socket: No route to host\n",
			"a/r": "10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.1\n",
		}, []string{"tcp179-rejected/medium/a/10.0.0.2", "no-route-to-peer/low/a/10.0.0.2"}},
		{"no route, unreachable route", ruleNoRoute, map[string]string{
			"a/p": hdr16 + "Mesh_10_0_0_2 BGP master start 09:00:01 Active Socket: No route to host\n",
			"a/r": "unreachable 10.0.0.0/24 proto static\n",
		}, []string{"no-route-to-peer/high/a/10.0.0.2"}},
		{"network unreachable", ruleNoRoute, map[string]string{
			"a/p": hdr16 + "Mesh_10_0_0_2 BGP master start 09:00:01 Active Socket: Network is unreachable\n",
		}, []string{"no-route-to-peer/high/a/10.0.0.2"}},
		{"bad peer AS received", notificationRule(2, 2, CauseASMismatch, High), map[string]string{
			"a/p": hdr16 + "Mesh_10_0_0_2 BGP master start 09:00:01 Idle Received: Bad peer AS\n",
		}, []string{"as-mismatch/high/a/10.0.0.2"}},
		{"bad peer AS in the log of an Established peer is history", notificationRule(2, 2, CauseASMismatch, High), map[string]string{
			"a/p": hdr16 + "Mesh_10_0_0_2 BGP master up 09:00:01 Established\n",
			"a/l": "bird: Mesh_10_0_0_2: Error: Bad peer AS: 64513\n",
		}, nil},
		{"hold timer", notificationRule(4, 0, CauseHoldTimerExpired, High), map[string]string{
			"a/p": hdr16 + "Mesh_10_0_0_2 BGP master start 09:00:01 Active BGP Error: Hold timer expired\n",
		}, []string{"hold-timer-expired/high/a/10.0.0.2"}},
		{"router ids equal", ruleRouterIDConfig, map[string]string{
			"a/c": "router id 10.0.0.9;\nprotocol bgp Mesh_10_0_0_2 {\n neighbor 10.0.0.2 as 64512;\n source address 10.0.0.1;\n}\n",
			"b/c": "router id 10.0.0.9;\nprotocol bgp Mesh_10_0_0_1 {\n neighbor 10.0.0.1 as 64512;\n source address 10.0.0.2;\n}\n",
		}, []string{"router-id-conflict/high/b/10.0.0.1"}},
		{"password on one end", ruleMD5Config, map[string]string{
			"a/c": "router id 10.0.0.1;\nprotocol bgp Mesh_10_0_0_2 {\n neighbor 10.0.0.2 as 64512;\n source address 10.0.0.1;\n password \"x\";\n}\n",
			"b/c": "router id 10.0.0.2;\nprotocol bgp Mesh_10_0_0_1 {\n neighbor 10.0.0.1 as 64512;\n source address 10.0.0.2;\n}\n",
		}, []string{"md5-mismatch/high/a/10.0.0.2", "md5-mismatch/high/b/10.0.0.1"}},
		{"source address present", ruleSourceIPMissing, map[string]string{
			"a/c":  "router id 10.0.0.2;\nprotocol bgp Mesh_10_0_0_1 {\n neighbor 10.0.0.1 as 64512;\n source address 10.0.0.2;\n}\n",
			"a/ip": addr2,
		}, nil},
		{"source address missing", ruleSourceIPMissing, map[string]string{
			"a/c":  "router id 10.0.0.7;\nprotocol bgp Mesh_10_0_0_1 {\n neighbor 10.0.0.1 as 64512;\n source address 10.0.0.7;\n}\n",
			"a/ip": addr2,
		}, []string{"source-ip-missing/high/a/"}},
		{"address differs from kubernetes", ruleWrongIPAutodetect, map[string]string{
			"a/c": "router id 192.168.9.2;\nprotocol bgp Mesh_10_0_0_1 {\n neighbor 10.0.0.1 as 64512;\n source address 192.168.9.2;\n}\n",
			"a/k": "NAME STATUS ROLES AGE VERSION INTERNAL-IP EXTERNAL-IP\na Ready <none> 1d v1.29.3 10.0.0.2 <none>\n",
		}, []string{"wrong-ip-autodetect/medium/a/"}},
		{"stale mesh peer", ruleStaleNode, map[string]string{
			"a/p": hdr16 + "Mesh_10_0_0_9 BGP master start 09:00:01 Connect\n",
			"a/k": "NAME STATUS ROLES AGE VERSION INTERNAL-IP EXTERNAL-IP\na Ready <none> 1d v1.29.3 10.0.0.2 <none>\n",
		}, []string{"stale-node/high/a/10.0.0.9"}},
		{"global peer is not stale", ruleStaleNode, map[string]string{
			"a/p": hdr16 + "Global_10_9_0_1 BGP master start 09:00:01 Connect\n",
			"a/k": "NAME STATUS ROLES AGE VERSION INTERNAL-IP EXTERNAL-IP\na Ready <none> 1d v1.29.3 10.0.0.2 <none>\n",
		}, nil},
		{"proxy refused without nginx evidence", ruleAPIServerProxyDown, map[string]string{
			"a/l": "confd: dial tcp 127.0.0.1:6443: connect: connection refused\n",
		}, []string{"apiserver-proxy-down/medium/a/"}},
		{"remote api server refused is not the proxy", ruleAPIServerProxyDown, map[string]string{
			"a/l": "confd: dial tcp 10.96.0.1:443: connect: connection refused\n",
		}, nil},
		{"vxlan with bird probe", ruleVXLANOnlyBirdCheck, map[string]string{
			"a/m": "data:\n  calico_backend: \"vxlan\"\n",
			"a/d": "            - -bird-ready\n            - -felix-ready\n        - name: CALICO_NETWORKING_BACKEND\n          value: vxlan\n",
		}, []string{"vxlan-only-bird-check/high//"}},
		{"bird backend: no vxlan finding", ruleVXLANOnlyBirdCheck, map[string]string{
			"a/m": "data:\n  calico_backend: \"bird\"\n",
			"a/r": "calico/node is not ready: BIRD is not ready: Error querying BIRD: unable to connect to BIRDv4 socket: x\n",
		}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := tc.rule(clusterOf(t, tc.files))
			if g := got(fs); strings.Join(g, " ") != strings.Join(tc.want, " ") {
				t.Fatalf("findings %v, want %v", g, tc.want)
			}
		})
	}
}

func TestDiagnoseNeverConfidentWhenCausesTie(t *testing.T) {
	rep := Diagnose(clusterOf(t, map[string]string{"a/p": refused}))
	if rep.Findings[0].Confidence == High {
		t.Fatalf("top finding %s is high although peer-bird-down and tcp179-rejected cannot be told apart", rep.Findings[0].Cause)
	}
	if len(rep.Unknowns) == 0 {
		t.Fatal("no unknowns say what would settle it")
	}
}

func TestRankPutsRootCauseFirst(t *testing.T) {
	fs := []Finding{
		{Cause: CausePeerBirdUnconfigured, Confidence: High},
		{Cause: CauseTCP179Dropped, Confidence: Low},
		{Cause: CauseAPIServerProxyDown, Confidence: High},
	}
	rank(fs, Catalogue())
	if fs[0].Cause != CauseAPIServerProxyDown || fs[2].Cause != CauseTCP179Dropped {
		t.Fatalf("order %v", got(fs))
	}
}

func TestCatalogueSlugsUnique(t *testing.T) {
	seen := map[Cause]bool{}
	for _, ci := range Catalogue() {
		if seen[ci.Cause] || len(ci.Remediation) == 0 || ci.Title == "" {
			t.Errorf("%s: duplicate or incomplete", ci.Cause)
		}
		seen[ci.Cause] = true
	}
	if len(seen) != 27 {
		t.Errorf("%d causes, want 27", len(seen))
	}
}
