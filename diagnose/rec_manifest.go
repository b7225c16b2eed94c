package diagnose

import "strings"

// calicoManifest recognises Calico install YAML or `kubectl get -o yaml`
// output that says which networking backend runs and what the probes ask:
// the calico-config ConfigMap (calico_backend: "vxlan") or the calico-node
// DaemonSet (CALICO_NETWORKING_BACKEND, readinessProbe with -bird-ready).
type calicoManifest struct{}

func (calicoManifest) Kind() string { return "calico-manifest" }
func (calicoManifest) Whole() bool  { return true }

func (calicoManifest) Recognize(source string, data []byte) (Observations, []string, bool) {
	var (
		m       CalicoManifest
		lines   []string
		seen    bool
		backEnv bool
	)
	keep := func(t string) {
		m.Lines = append(m.Lines, Line{source, t})
		lines = append(lines, t)
	}
	for _, l := range splitLines(data) {
		t := strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(t, "calico_backend:"):
			m.Backend = yamlValue(t)
			seen = true
			keep(t)
		case strings.Contains(t, "CALICO_NETWORKING_BACKEND"):
			backEnv, seen = true, true
			keep(t)
			continue
		case backEnv && strings.HasPrefix(t, "value:"):
			m.Backend = yamlValue(t)
			keep(t)
		case backEnv && strings.HasPrefix(t, "key:") && yamlValue(t) == "calico_backend":
			keep(t)
		case strings.Contains(t, "-bird-ready"), strings.Contains(t, "-bird-live"):
			m.BirdReadyProbe = true
			keep(t)
		case strings.Contains(t, "-felix-ready"), strings.Contains(t, "readinessProbe:"):
			keep(t)
		}
		if backEnv && (strings.HasPrefix(t, "- name:") || strings.HasPrefix(t, "value:")) {
			backEnv = false
		}
	}
	if !seen {
		return Observations{}, nil, false
	}
	return Observations{Manifests: []CalicoManifest{m}}, lines, true
}

// yamlValue returns the scalar after "key:" without quotes.
func yamlValue(t string) string {
	_, v, _ := strings.Cut(t, ":")
	v, _ = splitComment(strings.TrimSpace(v))
	return strings.Trim(v, `"' `)
}
