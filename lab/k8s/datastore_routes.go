package k8s

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"
)

// The stand-in's writable API: Calico's crd.projectcalico.org/v1
// BGPConfiguration, BGPPeer and Node (cluster-scoped, as Calico's CRDs
// are) and v1 Secrets, with get, list, create, update, patch (merge and
// JSON patch), delete and watch (?watch=1: a stream of JSON watch events).

// storedKind describes one writable resource.
type storedKind struct {
	plural, singular, kind, apiVersion string
	namespaced                         bool
	short                              []string
}

// calicoKinds are Calico's resources the stand-in serves.
var calicoKinds = []storedKind{
	{"bgpconfigurations", "bgpconfiguration", KindBGPConfiguration, CalicoAPIVersion, false, nil},
	{"bgppeers", "bgppeer", KindBGPPeer, CalicoAPIVersion, false, nil},
	{"nodes", "node", KindCalicoNode, CalicoAPIVersion, false, nil},
}

// secretKind is v1 Secret.
var secretKind = storedKind{"secrets", "secret", KindSecret, "v1", true, nil}

// writeVerbs are the verbs of a stored resource.
var writeVerbs = []string{"create", "delete", "get", "list", "patch", "update", "watch"}

// WithStore makes the stand-in serve store's objects (several stand-ins
// of one lab share one store). Call it before Start.
func (a *APIServer) WithStore(s *Store) *APIServer {
	a.store = s
	return a
}

// datastoreRoutes adds Calico's group and Secrets to mux.
func (a *APIServer) datastoreRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /apis/"+CalicoGroup+"/v1", a.auth(func(w http.ResponseWriter, _ *http.Request) {
		var rs []obj
		for _, k := range calicoKinds {
			rs = append(rs, obj{"name": k.plural, "singularName": k.singular, "namespaced": false, "kind": k.kind, "verbs": writeVerbs})
		}
		writeObject(w, http.StatusOK, obj{"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": CalicoAPIVersion, "resources": rs})
	}))
	mux.HandleFunc("GET /apis/"+CalicoGroup, a.auth(func(w http.ResponseWriter, _ *http.Request) {
		writeObject(w, http.StatusOK, calicoGroup())
	}))
	for _, k := range calicoKinds {
		base := "/apis/" + CalicoAPIVersion + "/" + k.plural
		a.storedRoutes(mux, k, base, base+"/{name}")
	}
	a.storedRoutes(mux, secretKind, "/api/v1/namespaces/{ns}/secrets", "/api/v1/namespaces/{ns}/secrets/{name}")
	a.openAPIRoutes(mux)
	mux.HandleFunc("GET /api/v1/secrets", a.auth(func(w http.ResponseWriter, r *http.Request) { a.listStored(w, r, secretKind) }))
}

// calicoGroup is the APIGroup entry of crd.projectcalico.org.
func calicoGroup() obj {
	v := obj{"groupVersion": CalicoAPIVersion, "version": "v1"}
	return obj{"kind": "APIGroup", "apiVersion": "v1", "name": CalicoGroup, "versions": []obj{v}, "preferredVersion": v}
}

// storedRoutes adds the collection and item routes of k.
func (a *APIServer) storedRoutes(mux *http.ServeMux, k storedKind, coll, item string) {
	mux.HandleFunc("GET "+coll, a.auth(func(w http.ResponseWriter, r *http.Request) { a.listStored(w, r, k) }))
	mux.HandleFunc("POST "+coll, a.auth(func(w http.ResponseWriter, r *http.Request) { a.writeStored(w, r, k, "") }))
	mux.HandleFunc("GET "+item, a.auth(func(w http.ResponseWriter, r *http.Request) {
		o, err := a.store.Get(k.kind, r.PathValue("ns"), r.PathValue("name"))
		if err != nil {
			notFound(w, k.plural+groupSuffix(k), r.PathValue("name"))
			return
		}
		if wantsTable(r) {
			writeObject(w, http.StatusOK, storedTable(k, []obj{o}))
			return
		}
		writeObject(w, http.StatusOK, o)
	}))
	mux.HandleFunc("PUT "+item, a.auth(func(w http.ResponseWriter, r *http.Request) { a.writeStored(w, r, k, r.PathValue("name")) }))
	mux.HandleFunc("PATCH "+item, a.auth(func(w http.ResponseWriter, r *http.Request) { a.patchStored(w, r, k) }))
	mux.HandleFunc("DELETE "+item, a.auth(func(w http.ResponseWriter, r *http.Request) {
		o, err := a.store.Delete(k.kind, r.PathValue("ns"), r.PathValue("name"))
		if err != nil {
			notFound(w, k.plural+groupSuffix(k), r.PathValue("name"))
			return
		}
		writeObject(w, http.StatusOK, o)
	}))
}

// groupSuffix is ".group" for kubectl's messages (bgppeers.crd.projectcalico.org).
func groupSuffix(k storedKind) string {
	if k.apiVersion == "v1" {
		return ""
	}
	return "." + CalicoGroup
}

// listStored lists (or watches) k's objects.
func (a *APIServer) listStored(w http.ResponseWriter, r *http.Request, k storedKind) {
	q := r.URL.Query()
	labels, fields := parseSelector(q.Get("labelSelector")), parseSelector(q.Get("fieldSelector"))
	match := func(o obj) bool {
		md := metadataOf(o)
		f := map[string]string{"metadata.name": objectName(o)}
		if ns, _ := md["namespace"].(string); ns != "" {
			f["metadata.namespace"] = ns
		}
		l := map[string]string{}
		if lm, ok := md["labels"].(map[string]any); ok {
			for key, v := range lm {
				l[key], _ = v.(string)
			}
		}
		return labels.matches(l) && fields.matches(f)
	}
	if v := q.Get("watch"); v == "1" || v == "true" {
		a.watchStored(w, r, k, match)
		return
	}
	rv := a.store.ResourceVersion()
	var items []obj
	for _, o := range a.store.List(k.kind, r.PathValue("ns")) {
		if match(o) {
			items = append(items, o)
		}
	}
	if wantsTable(r) {
		writeObject(w, http.StatusOK, storedTable(k, items))
		return
	}
	l := list(k.kind+"List", items)
	l["apiVersion"], l["metadata"] = k.apiVersion, obj{"resourceVersion": rv}
	writeObject(w, http.StatusOK, l)
}

// watchStored streams k's events until the client goes away: first ADDED
// for every object when the client asked from the start (no
// resourceVersion or "0"), then every change.
func (a *APIServer) watchStored(w http.ResponseWriter, r *http.Request, k storedKind, match func(obj) bool) {
	ch, stop := a.store.Watch(k.kind, r.PathValue("ns"))
	defer stop()
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_ = rc.Flush()
	enc := json.NewEncoder(w)
	table := wantsTable(r)
	send := func(ev WatchEvent) bool {
		if table {
			ev.Object = storedTable(k, []obj{ev.Object})
		}
		if err := enc.Encode(ev); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if rv := r.URL.Query().Get("resourceVersion"); rv == "" || rv == "0" {
		for _, o := range a.store.List(k.kind, r.PathValue("ns")) {
			if match(o) && !send(WatchEvent{Type: "ADDED", Object: o}) {
				return
			}
		}
	}
	timeout := 30 * time.Minute
	if n, err := parsePositive(r.URL.Query().Get("timeoutSeconds")); err == nil && n > 0 {
		timeout = time.Duration(n) * time.Second
	}
	end := time.NewTimer(timeout)
	defer end.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-end.C:
			return
		case ev, ok := <-ch:
			if !ok {
				return
			}
			if match(ev.Object) && !send(ev) {
				return
			}
		}
	}
}

// readBody reads a request body of at most 1 MiB as a JSON object.
func readBody(r *http.Request) (obj, error) {
	data, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	var o obj
	if err := json.Unmarshal(data, &o); err != nil {
		return nil, err
	}
	return o, nil
}

// writeStored creates (name "") or replaces an object from the body.
func (a *APIServer) writeStored(w http.ResponseWriter, r *http.Request, k storedKind, name string) {
	o, err := readBody(r)
	if err != nil {
		badRequest(w, "the body of the request could not be decoded: "+err.Error())
		return
	}
	if name != "" && objectName(o) != name {
		badRequest(w, "the name of the object ("+objectName(o)+") does not match the name on the URL ("+name+")")
		return
	}
	a.storeWrite(w, r, k, o, name == "")
}

// storeWrite validates o and creates or updates it.
func (a *APIServer) storeWrite(w http.ResponseWriter, r *http.Request, k storedKind, o obj, create bool) {
	if kind, _ := o["kind"].(string); kind != "" && kind != k.kind {
		badRequest(w, "the kind of the object ("+kind+") does not match the URL ("+k.kind+")")
		return
	}
	o["kind"], o["apiVersion"] = k.kind, k.apiVersion
	if k.kind == KindSecret {
		normalizeSecret(o)
	}
	if err := validateObject(k.kind, o); err != nil {
		field, msg, _ := strings.Cut(err.Error(), ": ")
		writeObject(w, http.StatusUnprocessableEntity, statusObject(422, "Invalid",
			k.plural+groupSuffix(k)+` "`+objectName(o)+`" is invalid: `+err.Error(),
			obj{"name": objectName(o), "group": strings.TrimPrefix(groupSuffix(k), "."), "kind": k.kind,
				"causes": []obj{{"reason": "FieldValueInvalid", "message": msg, "field": field}}}))
		return
	}
	if r.URL.Query().Get("dryRun") != "" {
		writeObject(w, http.StatusOK, o)
		return
	}
	ns := r.PathValue("ns")
	var out obj
	var err error
	code := http.StatusOK
	if create {
		out, err = a.store.Create(k.kind, ns, o)
		code = http.StatusCreated
	} else {
		out, err = a.store.Update(k.kind, ns, o)
	}
	switch {
	case errors.Is(err, ErrExists):
		writeObject(w, http.StatusConflict, statusObject(409, "AlreadyExists",
			k.plural+groupSuffix(k)+` "`+objectName(o)+`" already exists`, obj{"name": objectName(o), "kind": k.plural}))
	case errors.Is(err, ErrNotFound):
		notFound(w, k.plural+groupSuffix(k), objectName(o))
	case errors.Is(err, ErrConflict):
		writeObject(w, http.StatusConflict, statusObject(409, "Conflict",
			`Operation cannot be fulfilled on `+k.plural+groupSuffix(k)+` "`+objectName(o)+`": `+err.Error(), nil))
	case err != nil:
		writeObject(w, http.StatusInternalServerError, statusObject(500, "InternalError", err.Error(), nil))
	default:
		writeObject(w, code, out)
	}
}

// patchStored applies a merge patch or JSON patch. Strategic merge and
// server-side apply are what real CRDs refuse too (415), except that a
// Secret (a built-in kind) takes strategic merge, applied as a merge patch.
func (a *APIServer) patchStored(w http.ResponseWriter, r *http.Request, k storedKind) {
	ct := r.Header.Get("Content-Type")
	ns, name := r.PathValue("ns"), r.PathValue("name")
	cur, err := a.store.Get(k.kind, ns, name)
	if err != nil {
		notFound(w, k.plural+groupSuffix(k), name)
		return
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		badRequest(w, err.Error())
		return
	}
	var out obj
	switch {
	case strings.HasPrefix(ct, "application/merge-patch+json"),
		strings.HasPrefix(ct, "application/strategic-merge-patch+json") && k.kind == KindSecret:
		var p obj
		if err := json.Unmarshal(data, &p); err != nil {
			badRequest(w, "the body of the request could not be decoded: "+err.Error())
			return
		}
		out = mergePatch(cur, p)
	case strings.HasPrefix(ct, "application/json-patch+json"):
		if out, err = jsonPatch(cur, data); err != nil {
			writeObject(w, http.StatusUnprocessableEntity, statusObject(422, "Invalid", err.Error(), nil))
			return
		}
	default:
		writeObject(w, http.StatusUnsupportedMediaType, statusObject(415, "UnsupportedMediaType",
			"the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json", nil))
		return
	}
	metadataOf(out)["name"] = name
	a.storeWrite(w, r, k, out, false)
}

// badRequest writes a 400 Status.
func badRequest(w http.ResponseWriter, msg string) {
	writeObject(w, http.StatusBadRequest, statusObject(400, "BadRequest", msg, nil))
}

// storedTable is the Table kubectl prints for k's objects: NAME and AGE,
// as for a CRD without printer columns.
func storedTable(k storedKind, items []obj) obj {
	now := time.Now()
	var rows [][]any
	for _, o := range items {
		age := "<unknown>"
		if s, _ := metadataOf(o)["creationTimestamp"].(string); s != "" {
			if t, err := time.Parse(time.RFC3339, s); err == nil {
				age = humanAge(now.Sub(t))
			}
		}
		row := []any{objectName(o)}
		if k.kind == KindSecret {
			typ, _ := o["type"].(string)
			data, _ := o["data"].(map[string]any)
			row = append(row, typ, len(data))
		}
		rows = append(rows, append(row, age))
	}
	cols := []column{{"Name", "string", "name", 0}, {"Age", "date", "", 0}}
	if k.kind == KindSecret {
		cols = []column{{"Name", "string", "name", 0}, {"Type", "string", "", 0}, {"Data", "string", "", 0}, {"Age", "string", "", 0}}
	}
	t := table(cols, rows, items)
	return t
}
