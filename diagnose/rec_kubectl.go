package diagnose

import "strings"

// kubectlNodes recognises `kubectl get nodes -o wide`:
//
//	NAME      STATUS   ROLES           AGE   VERSION   INTERNAL-IP   EXTERNAL-IP   OS-IMAGE ...
//	master1   Ready    control-plane   20d   v1.29.3   10.0.0.1      <none>        Ubuntu 22.04.4 LTS ...
type kubectlNodes struct{}

func (kubectlNodes) Kind() string { return "kubectl-nodes" }
func (kubectlNodes) Whole() bool  { return true }

func (kubectlNodes) Recognize(source string, data []byte) (Observations, []string, bool) {
	var obs Observations
	heading := func(f []string) bool {
		return f[0] == "NAME" && indexOf(f, "STATUS") == 1 && indexOf(f, "INTERNAL-IP") > 0
	}
	lines, found := readKubectlTable(data, heading, func(r kubectlRow, t string) bool {
		n := KubeNode{Name: r.fields[0], Status: r.at("STATUS"), Roles: r.at("ROLES"),
			InternalIP: r.at("INTERNAL-IP"), Line: Line{source, t}}
		if ext := r.at("EXTERNAL-IP"); ext != "<none>" {
			n.ExternalIP = ext
		}
		if _, ok := parseAddr(n.InternalIP); !ok {
			return false
		}
		obs.KubeNodes = append(obs.KubeNodes, n)
		return true
	})
	if !found {
		return Observations{}, nil, false
	}
	return obs, lines, true
}

// ControlPlane reports whether the node's roles name a control plane.
func (n KubeNode) ControlPlane() bool {
	return strings.Contains(n.Roles, "control-plane") || strings.Contains(n.Roles, "master")
}
