package kubegather

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// The API objects rendered as kubectl prints them, so the engine's
// recognisers (kubectl get nodes/pods -o wide, readiness messages in
// events) read them as they read what a person pasted.

// newTable is kubectl's table writer.
func newTable(b *bytes.Buffer) *tabwriter.Writer {
	return tabwriter.NewWriter(b, 6, 4, 3, ' ', 0)
}

// age prints d as kubectl's AGE column does, roughly: 45s, 12m, 5h, 20d.
func age(d time.Duration) string {
	switch {
	case d < 0:
		return "<invalid>"
	case d < 2*time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < 3*time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

// nodeAddress returns n's first address of type t.
func nodeAddress(n corev1.Node, t corev1.NodeAddressType) string {
	for _, a := range n.Status.Addresses {
		if a.Type == t {
			return a.Address
		}
	}
	return ""
}

// nodeStatus is the STATUS column: Ready, NotReady or Unknown.
func nodeStatus(n corev1.Node) string {
	s := "Unknown"
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			switch c.Status {
			case corev1.ConditionTrue:
				s = "Ready"
			case corev1.ConditionFalse:
				s = "NotReady"
			}
		}
	}
	if n.Spec.Unschedulable {
		s += ",SchedulingDisabled"
	}
	return s
}

// nodeRoles is the ROLES column.
func nodeRoles(n corev1.Node) string {
	var roles []string
	for k := range n.Labels {
		if r, ok := strings.CutPrefix(k, "node-role.kubernetes.io/"); ok && r != "" {
			roles = append(roles, r)
		}
	}
	sort.Strings(roles)
	return orNone(strings.Join(roles, ","))
}

// renderNodes is `kubectl get nodes -o wide`.
func renderNodes(nodes []corev1.Node, now time.Time) []byte {
	var b bytes.Buffer
	w := newTable(&b)
	fmt.Fprintln(w, "NAME\tSTATUS\tROLES\tAGE\tVERSION\tINTERNAL-IP\tEXTERNAL-IP\tOS-IMAGE\tKERNEL-VERSION\tCONTAINER-RUNTIME")
	for _, n := range nodes {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", n.Name, nodeStatus(n), nodeRoles(n),
			age(now.Sub(n.CreationTimestamp.Time)), n.Status.NodeInfo.KubeletVersion,
			orNone(nodeAddress(n, corev1.NodeInternalIP)), orNone(nodeAddress(n, corev1.NodeExternalIP)),
			orNone(n.Status.NodeInfo.OSImage), orNone(n.Status.NodeInfo.KernelVersion),
			orNone(n.Status.NodeInfo.ContainerRuntimeVersion))
	}
	_ = w.Flush()
	return b.Bytes()
}

// podReady is the READY column (ready/total containers) and the restarts.
func podReady(p corev1.Pod) (ready string, restarts int32) {
	n := 0
	for _, c := range p.Status.ContainerStatuses {
		if c.Ready {
			n++
		}
		restarts += c.RestartCount
	}
	return fmt.Sprintf("%d/%d", n, len(p.Spec.Containers)), restarts
}

// podStatus is the STATUS column: a waiting or terminated reason wins
// over the phase, as in kubectl.
func podStatus(p corev1.Pod) string {
	s := string(p.Status.Phase)
	if p.Status.Reason != "" {
		s = p.Status.Reason
	}
	for _, c := range p.Status.ContainerStatuses {
		switch {
		case c.State.Waiting != nil && c.State.Waiting.Reason != "":
			s = c.State.Waiting.Reason
		case c.State.Terminated != nil && c.State.Terminated.Reason != "":
			s = c.State.Terminated.Reason
		}
	}
	if p.DeletionTimestamp != nil {
		s = "Terminating"
	}
	return orNone(s)
}

// renderPods is `kubectl get pods -n kube-system -o wide`.
func renderPods(pods []corev1.Pod, now time.Time) []byte {
	var b bytes.Buffer
	w := newTable(&b)
	fmt.Fprintln(w, "NAME\tREADY\tSTATUS\tRESTARTS\tAGE\tIP\tNODE\tNOMINATED NODE\tREADINESS GATES")
	for _, p := range pods {
		ready, restarts := podReady(p)
		started := p.CreationTimestamp.Time
		if p.Status.StartTime != nil {
			started = p.Status.StartTime.Time
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t<none>\t<none>\n", p.Name, ready, podStatus(p), restarts,
			age(now.Sub(started)), orNone(p.Status.PodIP), orNone(p.Spec.NodeName))
	}
	_ = w.Flush()
	return b.Bytes()
}

// renderEvents is `kubectl get events -n kube-system
// --field-selector involvedObject.name=POD`, oldest first.
func renderEvents(evs []corev1.Event, now time.Time) []byte {
	sort.SliceStable(evs, func(i, j int) bool { return eventTime(evs[i]).Before(eventTime(evs[j])) })
	var b bytes.Buffer
	w := newTable(&b)
	fmt.Fprintln(w, "LAST SEEN\tTYPE\tREASON\tOBJECT\tMESSAGE")
	for _, e := range evs {
		msg := strings.ReplaceAll(strings.TrimSpace(e.Message), "\n", " ")
		if e.Count > 1 {
			msg += fmt.Sprintf(" (x%d)", e.Count)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s/%s\t%s\n", age(now.Sub(eventTime(e))), e.Type, e.Reason,
			strings.ToLower(e.InvolvedObject.Kind), e.InvolvedObject.Name, msg)
	}
	_ = w.Flush()
	return b.Bytes()
}

// eventTime is when an event was last seen.
func eventTime(e corev1.Event) time.Time {
	switch {
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	}
	return e.FirstTimestamp.Time
}
