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
	var obs Observations
	heading := func(f []string) bool {
		return (f[0] == "NAME" || f[0] == "NAMESPACE") && indexOf(f, "READY") > 0 && indexOf(f, "STATUS") > 0
	}
	lines, found := readKubectlTable(data, heading, func(r kubectlRow, t string) bool {
		p, ok := podRow(r)
		if ok {
			p.Line = Line{source, t}
			obs.Pods = append(obs.Pods, p)
		}
		return ok
	})
	if !found {
		return Observations{}, nil, false
	}
	return obs, lines, true
}

// podRow reads a row by the heading's columns. RESTARTS may print as "12
// (3m ago)", which shifts the later columns; IP and NODE are then found
// from the end of the row's first IP address.
func podRow(r kubectlRow) (KubePod, bool) {
	f := r.fields
	p := KubePod{Name: r.at("NAME"), Ready: r.at("READY"), Status: r.at("STATUS")}
	if !strings.Contains(p.Ready, "/") {
		return p, false
	}
	start := r.cols["IP"]
	if start == 0 {
		start = r.cols["STATUS"]
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
