package diagnose

import (
	"fmt"
	"strings"
)

// localProxyPods are the name prefixes of kubespray's local API server
// proxies, static pods named <manifest>-<node> (nginx-proxy-worker1,
// haproxy-worker1).
var localProxyPods = []string{"nginx-proxy-", "haproxy-"}

// proxyPodMissing reports whether `kubectl get pods -n kube-system`
// shows local API server proxies on other nodes but none on the node
// labelled label, which is not a control-plane node: kubelet is not
// running its static pod. lines quotes the other nodes' proxy rows.
func proxyPodMissing(c *Cluster, label string) (missing bool, lines []Line) {
	if label == "" {
		return false, nil
	}
	for _, k := range c.KubeNodes() {
		if k.Name == label && k.ControlPlane() {
			return false, nil
		}
	}
	for _, n := range c.Nodes {
		for _, p := range n.Obs.Pods {
			for _, prefix := range localProxyPods {
				if !strings.HasPrefix(p.Name, prefix) {
					continue
				}
				if p.Node == label || p.Name == prefix+label {
					return false, nil
				}
				lines = append(lines, p.Line)
			}
		}
	}
	return len(lines) > 0, firstLines(lines, 2)
}

// proxyPodLine says what proxyPodMissing found, in words, quoting the
// pods table it read.
func proxyPodLine(label string, others []Line) Line {
	src := ""
	if len(others) > 0 {
		src = others[0].Source
	}
	return Line{src, fmt.Sprintf("(kubectl get pods -n kube-system) no nginx-proxy or haproxy static pod on %s, while other workers run one", label)}
}

// podNodeHasBirdEvidence reports whether node name, other than n, has
// evidence of its own BIRD (protocols, readiness, bird.cfg): a pod row
// about it is then better read from that evidence.
func podNodeHasBirdEvidence(c *Cluster, n *Node, name string) bool {
	if name == "" {
		return false
	}
	for _, m := range c.Nodes {
		if m != n && c.Label(m) == name {
			return len(m.Obs.Protocols) > 0 || len(m.Obs.Readiness) > 0 || len(m.Obs.BirdConfigs) > 0
		}
	}
	return false
}
