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
	var (
		obs   Observations
		lines []string
		cols  map[string]int
	)
	for _, l := range splitLines(data) {
		t := strings.TrimSpace(l)
		f := strings.Fields(t)
		if len(f) == 0 {
			continue
		}
		if f[0] == "NAME" && indexOf(f, "STATUS") == 1 && indexOf(f, "INTERNAL-IP") > 0 {
			cols = map[string]int{}
			for i, c := range f {
				cols[c] = i
			}
			lines = append(lines, t)
			continue
		}
		if cols == nil || len(f) <= cols["INTERNAL-IP"] {
			continue
		}
		n := KubeNode{Name: f[0], Status: f[1], Line: Line{source, t}}
		if i, ok := cols["ROLES"]; ok && i < len(f) {
			n.Roles = f[i]
		}
		n.InternalIP = f[cols["INTERNAL-IP"]]
		if i, ok := cols["EXTERNAL-IP"]; ok && i < len(f) && f[i] != "<none>" {
			n.ExternalIP = f[i]
		}
		if _, ok := parseAddr(n.InternalIP); !ok {
			continue
		}
		obs.KubeNodes = append(obs.KubeNodes, n)
		lines = append(lines, t)
	}
	if cols == nil {
		return Observations{}, nil, false
	}
	return obs, lines, true
}

// ControlPlane reports whether the node's roles name a control plane.
func (n KubeNode) ControlPlane() bool {
	return strings.Contains(n.Roles, "control-plane") || strings.Contains(n.Roles, "master")
}
