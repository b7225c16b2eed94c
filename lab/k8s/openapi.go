package k8s

import (
	"net/http"
)

// The stand-in's OpenAPI v3 discovery: just enough for kubectl to learn
// that PATCH takes fieldValidation (so it leaves validation to the server,
// as it does against kube-apiserver) for Calico's kinds and Secrets. No
// schemas are published: kubectl then applies Calico's kinds with a JSON
// merge patch, as it does for CRDs.

// openAPIRoutes adds /openapi/v3 and the documents it names.
func (a *APIServer) openAPIRoutes(mux *http.ServeMux) {
	docs := map[string][]storedKind{
		"apis/" + CalicoAPIVersion: calicoKinds,
		"api/v1":                   {secretKind, {"namespaces", "namespace", "Namespace", "v1", false, nil}},
	}
	mux.HandleFunc("GET /openapi/v3", a.auth(func(w http.ResponseWriter, _ *http.Request) {
		paths := obj{}
		for gv := range docs {
			paths[gv] = obj{"serverRelativeURL": "/openapi/v3/" + gv}
		}
		writeObject(w, http.StatusOK, obj{"paths": paths})
	}))
	for gv, kinds := range docs {
		mux.HandleFunc("GET /openapi/v3/"+gv, a.auth(func(w http.ResponseWriter, _ *http.Request) {
			writeObject(w, http.StatusOK, openAPIDoc(gv, kinds))
		}))
	}
}

// openAPIDoc is an OpenAPI 3 document with one PATCH operation per kind.
func openAPIDoc(gv string, kinds []storedKind) obj {
	paths := obj{}
	for _, k := range kinds {
		group, version := "", "v1"
		if k.apiVersion != "v1" {
			group = CalicoGroup
		}
		path := "/" + gv + "/" + k.plural + "/{name}"
		if k.namespaced {
			path = "/" + gv + "/namespaces/{namespace}/" + k.plural + "/{name}"
		}
		paths[path] = obj{"patch": obj{
			"operationId": "patch" + k.kind,
			"parameters": []obj{
				{"name": "fieldValidation", "in": "query", "schema": obj{"type": "string"}},
				{"name": "dryRun", "in": "query", "schema": obj{"type": "string"}},
			},
			"responses":                       obj{"200": obj{"description": "OK"}},
			"x-kubernetes-group-version-kind": obj{"group": group, "version": version, "kind": k.kind},
		}}
	}
	return obj{"openapi": "3.0.0", "info": obj{"title": "Kubernetes", "version": standInVersion.GitVersion}, "paths": paths}
}
