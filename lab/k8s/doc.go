// Package k8s holds the Kubernetes pieces peerlab plays around its BIRD
// nodes to reproduce control-plane stories such as a kubespray worker whose
// nginx-proxy is down: a minimal API server stand-in (healthz, version and
// the node list Calico reads), the per-lab CA and serving certificates,
// kubespray's nginx-proxy configuration and static pod manifest, a
// confd-like agent that renders BIRD's peers from the node list, and
// calico-node's BIRD readiness check.
//
// The package knows nothing of namespaces or labs: callers hand it
// listeners, dial functions and apply functions (lab/role_*.go does).
package k8s
