package diagnose

import (
	"fmt"
	"path/filepath"
	"sort"

	"github.com/peerlab/peerlab/internal/netns"
	"github.com/peerlab/peerlab/lab"
)

// LabTarget returns the live target of node in the running lab labName
// under stateDir: its namespace and the files of its node folder
// (<state>/labs/<lab>/nodes/<node>/). It fails when the lab is not
// running here or has no such node.
func LabTarget(stateDir, labName, node string) (NodeTarget, error) {
	st, err := lab.ReadState(stateDir, labName)
	if err != nil {
		return NodeTarget{}, fmt.Errorf("diagnose: %w", err)
	}
	if _, ok := st.Nodes[node]; !ok {
		names := make([]string, 0, len(st.Nodes))
		for n := range st.Nodes {
			names = append(names, n)
		}
		sort.Strings(names)
		return NodeTarget{}, fmt.Errorf("diagnose: lab %s has no node %q (have %v)", labName, node, names)
	}
	if st.Mode != lab.ModeNamespace {
		return NodeTarget{}, fmt.Errorf("diagnose: lab %s runs in %s mode: live diagnosis needs namespace mode", labName, st.Mode)
	}
	return labKindTarget(stateDir, labName, node, st.Nodes[node]), nil
}

// labKindTarget is labNodeTarget for a node of kind: router kinds (gobgp,
// injector) run no BIRD and no calico-node, so they get no BIRD or Calico
// paths; a gobgp node's sessions are read from its agent.
func labKindTarget(stateDir, labName, node, kind string) NodeTarget {
	t := labNodeTarget(stateDir, labName, node)
	t.Kind = kind
	if !IsRouterKind(kind) {
		return t
	}
	t.BirdSockets, t.BirdConfigs, t.BirdLogs = nil, nil, nil
	t.CalicoLogDir, t.NginxConf, t.ManifestsDir, t.APIProxy = "", "", "", ""
	if kind == "gobgp" {
		t.Router = AgentRouter(filepath.Join(lab.LabDir(stateDir, labName), "nodes", node, "agent.sock"))
	}
	return t
}

// labNodeTarget lays out a lab node's target.
func labNodeTarget(stateDir, labName, node string) NodeTarget {
	dir := filepath.Join(lab.LabDir(stateDir, labName), "nodes", node)
	f := func(elem ...string) string { return filepath.Join(append([]string{dir}, elem...)...) }
	return NodeTarget{
		Name:         node,
		NSPath:       netns.NamespacePathOf(labName, node),
		BirdSockets:  []string{f("run", "bird.ctl")},
		BirdConfigs:  []string{f("etc", "bird", "bird.cfg"), f("etc", "calico", "confd", "config", "bird.cfg")},
		BirdLogs:     []string{f("var", "log", "bird.log")},
		CalicoLogDir: f("var", "log", "calico"),
		NginxConf:    f("etc", "nginx", "nginx.conf"),
		ManifestsDir: f("etc", "kubernetes", "manifests"),
		APIProxy:     "127.0.0.1:6443",
		Interface:    "eth0",
	}
}

// LabResolver returns a PeerResolver over the other nodes of the running
// lab: it reads each node's IPv4 addresses in its namespace once.
func LabResolver(stateDir, labName string) (PeerResolver, error) {
	st, err := lab.ReadState(stateDir, labName)
	if err != nil {
		return nil, fmt.Errorf("diagnose: %w", err)
	}
	owner := map[string]string{}
	for node := range st.Nodes {
		h, err := netlinkHandle(netns.NamespacePathOf(labName, node))
		if err != nil {
			continue
		}
		data, err := ipAddrText(h)
		h.Close()
		if err != nil {
			continue
		}
		obs, _, ok := (ipAddr{}).Recognize("", data)
		if !ok {
			continue
		}
		for _, it := range obs.Interfaces {
			for _, p := range it.Prefixes {
				if !p.Addr().IsLoopback() {
					owner[p.Addr().String()] = node
				}
			}
		}
	}
	return func(addr string) (NodeTarget, bool) {
		node, ok := owner[addr]
		if !ok {
			return NodeTarget{}, false
		}
		return labKindTarget(stateDir, labName, node, st.Nodes[node]), true
	}, nil
}
