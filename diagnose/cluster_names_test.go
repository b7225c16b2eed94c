package diagnose

import "testing"

func TestNameFromEvidence(t *testing.T) {
	host := func(names ...string) []HostnameObs {
		var out []HostnameObs
		for _, n := range names {
			out = append(out, HostnameObs{Name: n, Line: Line{"f", "root@" + n + ":~# birdc show protocols"}})
		}
		return out
	}
	tests := []struct {
		name   string
		others []string
		hosts  []string
		want   string
	}{
		{"one host names it", nil, []string{"node1", "node1"}, "node1"},
		{"two hosts: files of several nodes", nil, []string{"node1", "node2"}, ""},
		{"name taken by a folder", []string{"node1"}, []string{"node1"}, ""},
		{"no host", nil, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &Cluster{}
			for _, o := range tc.others {
				c.NodeNamed(o)
			}
			n := c.NodeNamed("")
			n.Obs.Hostnames = host(tc.hosts...)
			c.Evidence = []Evidence{{Source: "f", Kind: "bird-protocols"}}
			c.nameFromEvidence()
			if n.Name != tc.want {
				t.Fatalf("name %q, want %q", n.Name, tc.want)
			}
			if c.Evidence[0].Node != tc.want {
				t.Errorf("evidence node %q, want %q", c.Evidence[0].Node, tc.want)
			}
			if tc.want != "" && c.NodeNamed(tc.want) != n {
				t.Errorf("NodeNamed(%q) does not find the renamed node", tc.want)
			}
		})
	}
}

// TestRankInFollowsInputOrder: findings the evidence cannot tell apart
// are listed in the order their lines came (gh-projectcalico-calico-1941
// lists .24 before .19).
func TestRankInFollowsInputOrder(t *testing.T) {
	ev := []Evidence{{Source: "s", Lines: []string{"| 169.47.194.24 | x |", "| 169.47.194.19 | x |"}}}
	fs := []Finding{
		{Cause: CauseSNATNodeTraffic, Confidence: Low, Peer: "169.47.194.19", Evidence: []string{"s: | 169.47.194.19 | x |"}},
		{Cause: CauseSNATNodeTraffic, Confidence: Low, Peer: "169.47.194.24", Evidence: []string{"s: | 169.47.194.24 | x |"}},
	}
	rankIn(fs, Catalogue(), evidenceOrder(ev))
	if fs[0].Peer != "169.47.194.24" {
		t.Fatalf("first %s, want 169.47.194.24", fs[0].Peer)
	}
	rank(fs, Catalogue())
	if fs[0].Peer != "169.47.194.19" {
		t.Fatalf("without positions first %s, want the lower address", fs[0].Peer)
	}
}
