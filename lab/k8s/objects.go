package k8s

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// The stand-in's objects: the fields of Kubernetes v1 Node, Pod, Namespace,
// Event and meta.k8s.io/v1 Table and Status that kubectl reads, built as
// plain JSON values.

// obj is one JSON object.
type obj = map[string]any

// itoa is strconv.Itoa.
func itoa(i int) string { return strconv.Itoa(i) }

// ts is a Kubernetes timestamp.
func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// uid is a stable UID for a kind and name.
func uid(kind, name string) string {
	sum := fnvSum(kind + "/" + name)
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", uint32(sum>>32), uint16(sum>>16), uint16(sum), uint16(sum>>48), sum&0xffffffffffff)
}

// kubeletVersion is the version nodes report.
const kubeletVersion = "v1.29.0-peerlab"

// namespaces are the namespaces the stand-in has.
var namespaces = []string{"default", "kube-node-lease", "kube-public", "kube-system"}

// namespaceObject is a v1 Namespace.
func namespaceObject(name string, created time.Time) obj {
	return obj{
		"kind": "Namespace", "apiVersion": "v1",
		"metadata": obj{"name": name, "uid": uid("Namespace", name), "creationTimestamp": ts(created),
			"labels": obj{"kubernetes.io/metadata.name": name}},
		"spec":   obj{"finalizers": []string{"kubernetes"}},
		"status": obj{"phase": "Active"},
	}
}

// nodeObject is a v1 Node: InternalIP, Hostname, role labels, the Ready
// condition and, for calico-nodes, Calico's annotations.
func nodeObject(n NodeState, calico *NodeInfo) obj {
	labels := obj{"kubernetes.io/hostname": n.Name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
		"beta.kubernetes.io/os": "linux", "beta.kubernetes.io/arch": "amd64"}
	for _, r := range n.Roles {
		labels["node-role.kubernetes.io/"+r] = ""
	}
	meta := obj{"name": n.Name, "uid": uid("Node", n.Name), "creationTimestamp": ts(n.Created), "labels": labels}
	if calico != nil {
		ann := obj{AnnotationIPv4Address: calico.Address.String()}
		if calico.ASN != 0 && calico.ASN != DefaultASN {
			ann[AnnotationASNumber] = strconv.FormatUint(uint64(calico.ASN), 10)
		}
		meta["annotations"] = ann
	}
	ready, reason, msg := "True", "KubeletReady", "kubelet is posting ready status"
	if !n.Ready {
		ready, reason, msg = "False", "KubeletNotReady", "container runtime network not ready"
	}
	return obj{
		"kind": "Node", "apiVersion": "v1", "metadata": meta,
		"spec": obj{},
		"status": obj{
			"addresses": []obj{{"type": "InternalIP", "address": n.Address.String()}, {"type": "Hostname", "address": n.Name}},
			"conditions": []obj{{"type": "Ready", "status": ready, "reason": reason, "message": msg,
				"lastHeartbeatTime": ts(time.Now()), "lastTransitionTime": ts(n.Created)}},
			"nodeInfo": obj{"kubeletVersion": kubeletVersion, "osImage": "peerlab node", "kernelVersion": kernelVersion(),
				"containerRuntimeVersion": "peerlab://1", "operatingSystem": "linux", "architecture": "amd64"},
		},
	}
}

// podObject is a v1 Pod.
func podObject(p PodState) obj {
	meta := obj{"name": p.Name, "namespace": "kube-system", "uid": uid("Pod", p.Name),
		"creationTimestamp": ts(p.Started), "labels": obj{"k8s-app": p.App}}
	if p.Owner != "" {
		meta["ownerReferences"] = []obj{{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": p.Owner,
			"uid": uid("DaemonSet", p.Owner), "controller": true, "blockOwnerDeletion": true}}
	}
	if p.Mirror {
		meta["annotations"] = obj{"kubernetes.io/config.mirror": uid("Manifest", p.Name), "kubernetes.io/config.source": "file"}
		meta["ownerReferences"] = []obj{{"apiVersion": "v1", "kind": "Node", "name": p.Node, "uid": uid("Node", p.Node), "controller": true}}
	}
	container := obj{"name": p.Container, "image": p.Image, "command": p.Command, "imagePullPolicy": "IfNotPresent"}
	if len(p.ReadinessProbe) > 0 {
		container["readinessProbe"] = obj{"exec": obj{"command": p.ReadinessProbe}, "periodSeconds": 10,
			"timeoutSeconds": 10, "successThreshold": 1, "failureThreshold": 3}
	}
	status := obj{"phase": "Running", "hostIP": p.IP.String(), "podIP": p.IP.String(),
		"podIPs": []obj{{"ip": p.IP.String()}}, "startTime": ts(p.Started), "qosClass": "Burstable"}
	state := obj{"running": obj{"startedAt": ts(p.Started)}}
	if !p.Running {
		state = obj{"waiting": obj{"reason": "CrashLoopBackOff"}}
	}
	status["conditions"] = []obj{
		{"type": "Initialized", "status": "True", "lastTransitionTime": ts(p.Started)},
		{"type": "Ready", "status": condition(p.Ready), "lastTransitionTime": ts(p.Started)},
		{"type": "ContainersReady", "status": condition(p.Ready), "lastTransitionTime": ts(p.Started)},
		{"type": "PodScheduled", "status": "True", "lastTransitionTime": ts(p.Started)},
	}
	status["containerStatuses"] = []obj{{"name": p.Container, "ready": p.Ready, "started": p.Running,
		"restartCount": p.Restarts, "image": p.Image, "imageID": "", "containerID": "peerlab://" + p.Node + "/" + p.Container,
		"state": state}}
	return obj{
		"kind": "Pod", "apiVersion": "v1", "metadata": meta,
		"spec": obj{"nodeName": p.Node, "hostNetwork": true, "containers": []obj{container},
			"restartPolicy": "Always", "priorityClassName": "system-node-critical", "serviceAccountName": p.App},
		"status": status,
	}
}

// eventObject is a v1 Event about pod p.
func eventObject(p PodState, i int, e Event) obj {
	name := fmt.Sprintf("%s.%x", p.Name, fnvSum(fmt.Sprint(p.Name, i, e.Reason, e.First.UnixNano())))
	return obj{
		"kind": "Event", "apiVersion": "v1",
		"metadata": obj{"name": name, "namespace": "kube-system", "uid": uid("Event", name), "creationTimestamp": ts(e.First)},
		"involvedObject": obj{"kind": "Pod", "namespace": "kube-system", "name": p.Name, "uid": uid("Pod", p.Name),
			"apiVersion": "v1", "fieldPath": "spec.containers{" + p.Container + "}"},
		"reason": e.Reason, "message": e.Message, "type": e.Type, "count": e.Count,
		"source":         obj{"component": e.Source, "host": p.Node},
		"firstTimestamp": ts(e.First), "lastTimestamp": ts(e.Last),
		"reportingComponent": e.Source, "reportingInstance": p.Node,
	}
}

// list wraps items as a v1 list of kind.
func list(kind string, items []obj) obj {
	if items == nil {
		items = []obj{}
	}
	return obj{"kind": kind, "apiVersion": "v1", "metadata": obj{"resourceVersion": "1"}, "items": items}
}

// statusObject is a meta/v1 Status.
func statusObject(code int, reason, msg string, details obj) obj {
	st := "Failure"
	if code < 300 {
		st = "Success"
	}
	s := obj{"kind": "Status", "apiVersion": "v1", "metadata": obj{}, "status": st, "message": msg, "reason": reason, "code": code}
	if details != nil {
		s["details"] = details
	}
	return s
}

// column is one Table column definition; priority 1 columns show with -o wide.
type column struct {
	name, typ, format string
	priority          int
}

// table is a meta.k8s.io/v1 Table of rows of objects.
func table(cols []column, rows [][]any, objects []obj) obj {
	defs := make([]obj, len(cols))
	for i, c := range cols {
		defs[i] = obj{"name": c.name, "type": c.typ, "format": c.format, "description": c.name, "priority": c.priority}
	}
	out := make([]obj, len(rows))
	for i, r := range rows {
		md := objects[i]["metadata"]
		out[i] = obj{"cells": r, "object": obj{"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": md}}
	}
	return obj{"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": obj{"resourceVersion": "1"},
		"columnDefinitions": defs, "rows": out}
}

// Table columns as kube-apiserver prints them.
var (
	podColumns = []column{{"Name", "string", "name", 0}, {"Ready", "string", "", 0}, {"Status", "string", "", 0},
		{"Restarts", "string", "", 0}, {"Age", "string", "", 0}, {"IP", "string", "", 1}, {"Node", "string", "", 1},
		{"Nominated Node", "string", "", 1}, {"Readiness Gates", "string", "", 1}}
	nodeColumns = []column{{"Name", "string", "name", 0}, {"Status", "string", "", 0}, {"Roles", "string", "", 0},
		{"Age", "string", "", 0}, {"Version", "string", "", 0}, {"Internal-IP", "string", "", 1},
		{"External-IP", "string", "", 1}, {"OS-Image", "string", "", 1}, {"Kernel-Version", "string", "", 1},
		{"Container-Runtime", "string", "", 1}}
	namespaceColumns = []column{{"Name", "string", "name", 0}, {"Status", "string", "", 0}, {"Age", "string", "", 0}}
	eventColumns     = []column{{"Last Seen", "string", "", 0}, {"Type", "string", "", 0}, {"Reason", "string", "", 0},
		{"Object", "string", "", 0}, {"Message", "string", "", 0}}
)

// podRow is a pod's row of podColumns.
func podRow(p PodState, now time.Time) []any {
	ready := 0
	if p.Ready {
		ready = 1
	}
	status := "Running"
	if !p.Running {
		status = "CrashLoopBackOff"
	}
	return []any{p.Name, fmt.Sprintf("%d/1", ready), status, itoa(p.Restarts), humanAge(now.Sub(p.Started)),
		p.IP.String(), p.Node, "<none>", "<none>"}
}

// nodeRow is a node's row of nodeColumns.
func nodeRow(n NodeState, now time.Time) []any {
	status := "Ready"
	if !n.Ready {
		status = "NotReady"
	}
	roles := "<none>"
	if len(n.Roles) > 0 {
		roles = strings.Join(n.Roles, ",")
	}
	return []any{n.Name, status, roles, humanAge(now.Sub(n.Created)), kubeletVersion, n.Address.String(), "<none>",
		"peerlab node", kernelVersion(), "peerlab://1"}
}

// eventRow is an event's row of eventColumns.
func eventRow(p PodState, e Event, now time.Time) []any {
	return []any{humanAge(now.Sub(e.Last)), e.Type, e.Reason, "pod/" + p.Name, e.Message}
}

// kernelVersion is the running kernel's release.
func kernelVersion() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "unknown"
	}
	return unix.ByteSliceToString(u.Release[:])
}

// fnvSum is the 64-bit FNV-1a hash of s.
func fnvSum(s string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(s))
	return h.Sum64()
}

// condition is a condition status for b.
func condition(b bool) string {
	if b {
		return "True"
	}
	return "False"
}
