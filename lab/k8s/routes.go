package k8s

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// The Kubernetes API of the stand-in when it serves a Cluster: discovery
// (/api, /apis, /api/v1), namespaces, nodes, kube-system pods with their
// logs and exec, and events; tables (Accept: ...;as=Table;g=meta.k8s.io)
// for kubectl get. Everything under /api and /apis needs a client
// certificate signed by the lab's CA.

// resource is one entry of /api/v1's APIResourceList.
type resource struct {
	name, singular, kind string
	namespaced           bool
	short                []string
	verbs                []string
}

// v1Resources are the resources the stand-in serves.
var v1Resources = []resource{
	{"namespaces", "namespace", "Namespace", false, []string{"ns"}, []string{"get", "list"}},
	{"nodes", "node", "Node", false, []string{"no"}, []string{"get", "list"}},
	{"pods", "pod", "Pod", true, []string{"po"}, []string{"get", "list"}},
	{"pods/log", "", "Pod", true, nil, []string{"get"}},
	{"pods/exec", "", "PodExecOptions", true, nil, []string{"create", "get"}},
	{"events", "event", "Event", true, []string{"ev"}, []string{"get", "list"}},
}

// clusterRoutes adds the Cluster API to mux.
func (a *APIServer) clusterRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api", a.auth(func(w http.ResponseWriter, r *http.Request) {
		writeObject(w, http.StatusOK, obj{"kind": "APIVersions", "versions": []string{"v1"},
			"serverAddressByClientCIDRs": []obj{{"clientCIDR": "0.0.0.0/0", "serverAddress": r.Host}}})
	}))
	mux.HandleFunc("GET /apis", a.auth(func(w http.ResponseWriter, _ *http.Request) {
		groups := []obj{}
		if a.store != nil {
			groups = append(groups, calicoGroup())
		}
		writeObject(w, http.StatusOK, obj{"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
	}))
	mux.HandleFunc("GET /api/v1", a.auth(func(w http.ResponseWriter, _ *http.Request) {
		var rs []obj
		resources := v1Resources
		if a.store != nil {
			resources = append(slices.Clone(resources), resource{"secrets", "secret", "Secret", true, nil, writeVerbs})
		}
		for _, res := range resources {
			o := obj{"name": res.name, "singularName": res.singular, "namespaced": res.namespaced, "kind": res.kind, "verbs": res.verbs}
			if res.short != nil {
				o["shortNames"] = res.short
			}
			rs = append(rs, o)
		}
		writeObject(w, http.StatusOK, obj{"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "v1", "resources": rs})
	}))
	if a.store != nil {
		a.datastoreRoutes(mux)
	}
	mux.HandleFunc("GET /api/v1/namespaces", a.auth(a.listNamespaces))
	mux.HandleFunc("GET /api/v1/namespaces/{ns}", a.auth(a.getNamespace))
	mux.HandleFunc("GET /api/v1/nodes", a.auth(a.listNodes))
	mux.HandleFunc("GET /api/v1/nodes/{name}", a.auth(a.getNode))
	mux.HandleFunc("GET /api/v1/pods", a.auth(a.listPods))
	mux.HandleFunc("GET /api/v1/namespaces/{ns}/pods", a.auth(a.listPods))
	mux.HandleFunc("GET /api/v1/namespaces/{ns}/pods/{name}", a.auth(a.getPod))
	mux.HandleFunc("GET /api/v1/namespaces/{ns}/pods/{name}/log", a.auth(a.podLog))
	mux.HandleFunc("GET /api/v1/namespaces/{ns}/pods/{name}/exec", a.auth(a.podExec))
	mux.HandleFunc("POST /api/v1/namespaces/{ns}/pods/{name}/exec", a.auth(a.podExec))
	mux.HandleFunc("GET /api/v1/events", a.auth(a.listEvents))
	mux.HandleFunc("GET /api/v1/namespaces/{ns}/events", a.auth(a.listEvents))
	mux.HandleFunc("/api/", a.auth(func(w http.ResponseWriter, r *http.Request) {
		writeObject(w, http.StatusNotFound, statusObject(404, "NotFound", "the server could not find the requested resource", nil))
	}))
	mux.HandleFunc("/apis/", a.auth(func(w http.ResponseWriter, r *http.Request) {
		writeObject(w, http.StatusNotFound, statusObject(404, "NotFound", "the server could not find the requested resource", nil))
	}))
}

// auth refuses requests without a verified client certificate.
func (a *APIServer) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 {
			writeObject(w, http.StatusUnauthorized, statusObject(401, "Unauthorized", "Unauthorized", nil))
			return
		}
		h(w, r)
	}
}

// wantsTable reports whether the client asked for a server-side table.
func wantsTable(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "as=Table")
}

// writeObject writes v as JSON with code.
func writeObject(w http.ResponseWriter, code int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(data)
}

// notFound writes the Status kubectl prints as `Error from server (NotFound)`.
func notFound(w http.ResponseWriter, kind, name string) {
	writeObject(w, http.StatusNotFound, statusObject(404, "NotFound", kind+` "`+name+`" not found`,
		obj{"name": name, "kind": kind}))
}

// selector is an equality label or field selector (a=b,c=d).
type selector map[string]string

// parseSelector reads a=b,c==d; other operators are not supported and
// match nothing.
func parseSelector(s string) selector {
	sel := selector{}
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok || strings.HasSuffix(k, "!") {
			sel[part] = "\x00" // unsupported: matches nothing
			continue
		}
		sel[k] = strings.TrimPrefix(v, "=")
	}
	return sel
}

// matches reports whether fields hold every pair of sel.
func (sel selector) matches(fields map[string]string) bool {
	for k, v := range sel {
		if fields[k] != v {
			return false
		}
	}
	return true
}

// podFields are the label and field values a pod is selected on.
func podFields(p PodState) map[string]string {
	return map[string]string{"k8s-app": p.App, "spec.nodeName": p.Node, "metadata.name": p.Name,
		"metadata.namespace": "kube-system", "status.phase": "Running"}
}

// inKubeSystem reports whether the request's namespace (if any) is
// kube-system, where the lab's pods live.
func inKubeSystem(r *http.Request) bool {
	ns := r.PathValue("ns")
	return ns == "" || ns == "kube-system"
}

func (a *APIServer) listNamespaces(w http.ResponseWriter, r *http.Request) {
	var items []obj
	var rows [][]any
	for _, n := range namespaces {
		items = append(items, namespaceObject(n, a.created))
		rows = append(rows, []any{n, "Active", humanAge(time.Since(a.created))})
	}
	if wantsTable(r) {
		writeObject(w, http.StatusOK, table(namespaceColumns, rows, items))
		return
	}
	writeObject(w, http.StatusOK, list("NamespaceList", items))
}

func (a *APIServer) getNamespace(w http.ResponseWriter, r *http.Request) {
	ns := r.PathValue("ns")
	for _, n := range namespaces {
		if n == ns {
			writeObject(w, http.StatusOK, namespaceObject(n, a.created))
			return
		}
	}
	notFound(w, "namespaces", ns)
}

// calicoInfo is the calico-node NodeInfo of node name, nil when it is none.
func (a *APIServer) calicoInfo(name string) *NodeInfo {
	for i := range a.nodes {
		if a.nodes[i].Name == name {
			return &a.nodes[i]
		}
	}
	return nil
}

func (a *APIServer) listNodes(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	var items []obj
	var rows [][]any
	for _, n := range a.cluster.Nodes(r.Context()) {
		items = append(items, nodeObject(n, a.calicoInfo(n.Name)))
		rows = append(rows, nodeRow(n, now))
	}
	if wantsTable(r) {
		writeObject(w, http.StatusOK, table(nodeColumns, rows, items))
		return
	}
	writeObject(w, http.StatusOK, list("NodeList", items))
}

func (a *APIServer) getNode(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	for _, n := range a.cluster.Nodes(r.Context()) {
		if n.Name == name {
			o := nodeObject(n, a.calicoInfo(n.Name))
			if wantsTable(r) {
				writeObject(w, http.StatusOK, table(nodeColumns, [][]any{nodeRow(n, time.Now())}, []obj{o}))
				return
			}
			writeObject(w, http.StatusOK, o)
			return
		}
	}
	notFound(w, "nodes", name)
}

// pods lists the pods the request selects.
func (a *APIServer) pods(r *http.Request) []PodState {
	if !inKubeSystem(r) {
		return nil
	}
	q := r.URL.Query()
	labels, fields := parseSelector(q.Get("labelSelector")), parseSelector(q.Get("fieldSelector"))
	var out []PodState
	for _, p := range a.cluster.Pods(r.Context()) {
		f := podFields(p)
		if labels.matches(f) && fields.matches(f) {
			out = append(out, p)
		}
	}
	return out
}

// pod finds the pod of the request's path.
func (a *APIServer) pod(ctx context.Context, r *http.Request) (PodState, bool) {
	if r.PathValue("ns") != "kube-system" {
		return PodState{}, false
	}
	for _, p := range a.cluster.Pods(ctx) {
		if p.Name == r.PathValue("name") {
			return p, true
		}
	}
	return PodState{}, false
}

func (a *APIServer) listPods(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	var items []obj
	var rows [][]any
	for _, p := range a.pods(r) {
		items = append(items, podObject(p))
		rows = append(rows, podRow(p, now))
	}
	if wantsTable(r) {
		writeObject(w, http.StatusOK, table(podColumns, rows, items))
		return
	}
	writeObject(w, http.StatusOK, list("PodList", items))
}

func (a *APIServer) getPod(w http.ResponseWriter, r *http.Request) {
	p, ok := a.pod(r.Context(), r)
	if !ok {
		notFound(w, "pods", r.PathValue("name"))
		return
	}
	o := podObject(p)
	if wantsTable(r) {
		writeObject(w, http.StatusOK, table(podColumns, [][]any{podRow(p, time.Now())}, []obj{o}))
		return
	}
	writeObject(w, http.StatusOK, o)
}

func (a *APIServer) podLog(w http.ResponseWriter, r *http.Request) {
	p, ok := a.pod(r.Context(), r)
	if !ok {
		notFound(w, "pods", r.PathValue("name"))
		return
	}
	c := r.URL.Query().Get("container")
	if c == "" {
		c = p.Container
	}
	if c != p.Container {
		writeObject(w, http.StatusBadRequest, statusObject(400, "BadRequest",
			"container "+c+" is not valid for pod "+p.Name, nil))
		return
	}
	data, err := a.cluster.Logs(r.Context(), p.Name, c)
	if err != nil {
		writeObject(w, http.StatusInternalServerError, statusObject(500, "InternalError", err.Error(), nil))
		return
	}
	if n, err := parsePositive(r.URL.Query().Get("tailLines")); err == nil && n > 0 {
		data = tailLines(data, n)
	}
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write(data)
}

func (a *APIServer) podExec(w http.ResponseWriter, r *http.Request) {
	p, ok := a.pod(r.Context(), r)
	if !ok {
		notFound(w, "pods", r.PathValue("name"))
		return
	}
	q := r.URL.Query()
	argv := q["command"]
	if c := q.Get("container"); c != "" && c != p.Container {
		writeObject(w, http.StatusBadRequest, statusObject(400, "BadRequest", "container "+c+" is not valid for pod "+p.Name, nil))
		return
	}
	if len(argv) == 0 {
		writeObject(w, http.StatusBadRequest, statusObject(400, "BadRequest", "you must specify at least 1 command", nil))
		return
	}
	if !isWebSocket(r) {
		writeObject(w, http.StatusBadRequest, statusObject(400, "BadRequest",
			"this API server stand-in streams exec over WebSocket only (v5.channel.k8s.io, kubectl >= 1.30)", nil))
		return
	}
	c, err := upgrade(w, r)
	if err != nil {
		a.log.Debug("exec upgrade failed")
		return
	}
	go c.serveControl()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	code, err := a.cluster.Exec(ctx, p.Name, p.Container, argv, channelWriter{c, chanStdout}, channelWriter{c, chanStderr})
	c.finish(argv, code, err)
}

func (a *APIServer) listEvents(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	fields := parseSelector(r.URL.Query().Get("fieldSelector"))
	var items []obj
	var rows [][]any
	if inKubeSystem(r) {
		for _, p := range a.cluster.Pods(r.Context()) {
			f := map[string]string{"involvedObject.name": p.Name, "involvedObject.namespace": "kube-system",
				"involvedObject.kind": "Pod", "involvedObject.uid": uid("Pod", p.Name)}
			if !fields.matches(f) {
				continue
			}
			for i, e := range p.Events {
				items = append(items, eventObject(p, i, e))
				rows = append(rows, eventRow(p, e, now))
			}
		}
	}
	if wantsTable(r) {
		writeObject(w, http.StatusOK, table(eventColumns, rows, items))
		return
	}
	writeObject(w, http.StatusOK, list("EventList", items))
}

// parsePositive parses a non-negative integer query value.
func parsePositive(s string) (int, error) {
	v, err := url.QueryUnescape(s)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, errNotNumber
		}
		n = n*10 + int(c-'0')
	}
	return n, nil
}

// tailLines keeps the last n lines of data.
func tailLines(data []byte, n int) []byte {
	lines := strings.SplitAfter(string(data), "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return []byte(strings.Join(lines, ""))
}
