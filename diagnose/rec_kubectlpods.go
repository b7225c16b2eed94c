package diagnose

import "strings"

// kubectlPods recognises `kubectl get pods -o wide` (with or without
// NAMESPACE, a "$ kubectl ..." prompt before it, rows of other pods):
//
//	NAME                READY     STATUS    RESTARTS   AGE       IP           NODE
//	calico-node-8ms9b   2/2       Running   0          8m        10.255.0.2   terom-pharos-2
//	calico-node-qx57q   0/1       CrashLoopBackOff   12 (3m ago)   40m   10.0.0.5   worker1   <none>   <none>
//
// A calico-node pod runs in the host network, so its IP is its node's.
type kubectlPods struct{}

func (kubectlPods) Kind() string { return "kubectl-pods" }
func (kubectlPods) Whole() bool  { return true }

func (kubectlPods) Recognize(source string, data []byte) (Observations, []string, bool) {
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
		if (f[0] == "NAME" || f[0] == "NAMESPACE") && indexOf(f, "READY") > 0 && indexOf(f, "STATUS") > 0 {
			cols = map[string]int{}
			for i, c := range f {
				cols[c] = i
			}
			lines = append(lines, t)
			continue
		}
		if cols == nil {
			continue
		}
		if p, ok := podRow(f, cols); ok {
			p.Line = Line{source, t}
			obs.Pods = append(obs.Pods, p)
			lines = append(lines, t)
		}
	}
	if cols == nil {
		return Observations{}, nil, false
	}
	return obs, lines, true
}

// podRow reads a row by the heading's columns. RESTARTS may print as "12
// (3m ago)", which shifts the later columns; IP and NODE are then found
// from the end of the row's first IP address.
func podRow(f []string, cols map[string]int) (KubePod, bool) {
	at := func(name string) string {
		if i, ok := cols[name]; ok && i < len(f) {
			return f[i]
		}
		return ""
	}
	p := KubePod{Name: at("NAME"), Ready: at("READY"), Status: at("STATUS")}
	if !strings.Contains(p.Ready, "/") {
		return p, false
	}
	start := cols["IP"]
	if start == 0 {
		start = cols["STATUS"]
	}
	for i := start; i < len(f) && i > 0; i++ {
		if _, ok := parseAddr(f[i]); ok {
			p.IP = f[i]
			if i+1 < len(f) {
				p.Node = f[i+1]
			}
			break
		}
	}
	return p, true
}
