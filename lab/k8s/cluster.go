package k8s

import (
	"context"
	"hash/fnv"
	"io"
	"net/netip"
	"time"
)

// Cluster is what the API server stand-in shows of the lab beyond the
// calico-nodes' BGP addresses: nodes, the kube-system pods the lab really
// runs (calico-node, kubespray's nginx-proxy), their logs, and running a
// command in a pod. The lab implements it; every call reads the lab as it
// is now.
type Cluster interface {
	// Nodes lists the cluster's nodes.
	Nodes(ctx context.Context) []NodeState
	// Pods lists the kube-system pods.
	Pods(ctx context.Context) []PodState
	// Logs is the log of a pod's container.
	Logs(ctx context.Context, pod, container string) ([]byte, error)
	// Exec runs argv in a pod's container (its node) and returns its
	// exit status.
	Exec(ctx context.Context, pod, container string, argv []string, stdout, stderr io.Writer) (int, error)
}

// NodeState is one Kubernetes node.
type NodeState struct {
	Name    string
	Address netip.Addr
	// Roles are node-role.kubernetes.io/<role> labels: control-plane on
	// masters.
	Roles   []string
	Ready   bool
	Created time.Time
}

// PodState is one pod.
type PodState struct {
	Name string
	// App is its k8s-app label (calico-node, kube-nginx).
	App       string
	Node      string
	IP        netip.Addr
	Container string
	Image     string
	// Command is the container's command line.
	Command []string
	// ReadinessProbe is the exec probe's command, nil for none.
	ReadinessProbe []string
	Running        bool
	Ready          bool
	Restarts       int
	Started        time.Time
	// Mirror marks a static pod's mirror (kubelet runs it from
	// /etc/kubernetes/manifests).
	Mirror bool
	// Owner is the DaemonSet that owns the pod, "" for a static pod.
	Owner  string
	Events []Event
}

// Event is a Kubernetes event about a pod.
type Event struct {
	Type    string // Normal or Warning
	Reason  string // Unhealthy, Started …
	Message string
	First   time.Time
	Last    time.Time
	Count   int
	// Source is the component that reported it (kubelet).
	Source string
}

// podSuffixAlphabet is the alphabet of generated Kubernetes name suffixes.
const podSuffixAlphabet = "bcdfghjklmnpqrstvwxz2456789"

// DaemonSetPodName is a DaemonSet pod's name on node: owner, a dash and
// five characters derived from the node name, stable for the lab's life.
func DaemonSetPodName(owner, node string) string {
	h := fnv.New64a()
	_, _ = io.WriteString(h, owner+"/"+node)
	v := h.Sum64()
	suffix := make([]byte, 5)
	for i := range suffix {
		suffix[i] = podSuffixAlphabet[v%uint64(len(podSuffixAlphabet))]
		v /= uint64(len(podSuffixAlphabet))
	}
	return owner + "-" + string(suffix)
}

// humanAge prints d as kubectl's AGE column does.
func humanAge(d time.Duration) string {
	switch s := int(d.Seconds()); {
	case s < 0:
		return "<invalid>"
	case s < 120:
		return itoa(s) + "s"
	case d < 10*time.Minute:
		m := s / 60
		if s%60 == 0 {
			return itoa(m) + "m"
		}
		return itoa(m) + "m" + itoa(s%60) + "s"
	case d < 3*time.Hour:
		return itoa(s/60) + "m"
	case d < 8*time.Hour:
		h, m := s/3600, (s%3600)/60
		if m == 0 {
			return itoa(h) + "h"
		}
		return itoa(h) + "h" + itoa(m) + "m"
	case d < 48*time.Hour:
		return itoa(s/3600) + "h"
	}
	return itoa(int(d.Hours()/24)) + "d"
}
