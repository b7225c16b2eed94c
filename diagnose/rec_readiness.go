package diagnose

import "strings"

// readinessMessage recognises calico-node readiness failures, alone or
// inside `kubectl describe pod` events and logs:
//
//	calico/node is not ready: BIRD is not ready: BGP not established with 10.0.0.2,10.0.0.3
//	calico/node is not ready: BIRD is not ready: Error querying BIRD: unable to connect to BIRDv4 socket: ...
type readinessMessage struct{}

func (readinessMessage) Kind() string { return "readiness" }
func (readinessMessage) Whole() bool  { return false }

func (readinessMessage) Recognize(source string, data []byte) (Observations, []string, bool) {
	var (
		obs   Observations
		lines []string
	)
	for _, l := range splitLines(data) {
		r, ok := parseReadiness(l)
		if !ok {
			continue
		}
		r.Line = Line{source, strings.TrimSpace(l)}
		obs.Readiness = append(obs.Readiness, r)
		lines = append(lines, r.Line.Text)
	}
	return obs, lines, len(lines) > 0
}

// parseReadiness takes apart one readiness message line.
func parseReadiness(l string) (Readiness, bool) {
	var r Readiness
	i := strings.Index(l, "BIRD is not ready:")
	if i < 0 {
		return r, false
	}
	msg := l[i+len("BIRD is not ready:"):]
	if _, list, ok := strings.Cut(msg, "BGP not established with"); ok {
		for _, f := range strings.FieldsFunc(list, func(c rune) bool { return c == ',' || c == ' ' || c == '"' || c == '\t' }) {
			if a, ok := parseAddr(strings.TrimRight(f, ".;")); ok {
				r.NotEstablished = append(r.NotEstablished, a.String())
			}
		}
		return r, true
	}
	if containsFold(msg, "unable to connect to BIRD") || containsFold(msg, "bird.ctl") {
		r.BirdSocketMissing = true
	}
	return r, true
}
