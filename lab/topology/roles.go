package topology

import (
	"fmt"
	"slices"
	"strings"
)

// buildRoles converts a node's `roles:` list: known names, each once;
// calico-node and kubespray-worker only on BIRD nodes (they drive a real
// BIRD's configuration); kubespray-worker only with calico-node (the proxy
// is there for calico-node to reach the API server).
func (b *builder) buildRoles(raw []string, kind, path string) []Role {
	var out []Role
	for i, s := range raw {
		p := joinIndex(path, i)
		r := Role(s)
		switch {
		case !slices.Contains(ClusterRoles(), r):
			b.c.add(p, fmt.Sprintf("unknown role %q (known: %s)", s, roleList(ClusterRoles())))
			continue
		case slices.Contains(out, r):
			b.c.add(p, fmt.Sprintf("role %s is listed twice", s))
			continue
		case (r == RoleCalicoNode || r == RoleKubesprayWorker) && kind != KindBIRD && kind != KindBIRD2:
			b.c.add(p, fmt.Sprintf("role %s needs a BIRD node (kind bird or bird2), not kind %s", s, kind))
			continue
		}
		out = append(out, r)
	}
	if slices.Contains(out, RoleKubesprayWorker) && !slices.Contains(out, RoleCalicoNode) {
		b.c.add(joinIndex(path, slices.Index(raw, string(RoleKubesprayWorker))), "role kubespray-worker needs role calico-node on the same node (the proxy is how calico-node reaches the API server)")
	}
	return out
}

// checkClusterRoles checks the roles across nodes: calico-nodes need an API
// server to read their peers from.
func (b *builder) checkClusterRoles(nodes []*Node) {
	var calico []string
	apiservers := 0
	for _, n := range nodes {
		if n.HasRole(RoleCalicoNode) {
			calico = append(calico, n.Name)
		}
		if n.HasRole(RoleAPIServer) {
			apiservers++
		}
	}
	if len(calico) > 0 && apiservers == 0 {
		b.c.add(joinKey("nodes", calico[0])+".roles", fmt.Sprintf("calico-node %s reads its peers from the API server, but no node has role apiserver (calico-nodes: %s)", calico[0], strings.Join(calico, ", ")))
	}
}

// roleList renders roles for messages: "apiserver, calico-node", or "none".
func roleList(roles []Role) string {
	if len(roles) == 0 {
		return "none"
	}
	s := make([]string, len(roles))
	for i, r := range roles {
		s[i] = string(r)
	}
	return strings.Join(s, ", ")
}
