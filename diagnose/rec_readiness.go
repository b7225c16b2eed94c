package diagnose

import (
	"net/netip"
	"strings"
)

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
		if strings.Contains(l, "Number of node(s) with BGP peering established = 0") {
			r.NoPeers = true
			return r, true
		}
		return r, false
	}
	msg := l[i+len("BIRD is not ready:"):]
	if _, list, ok := strings.Cut(msg, "BGP not established with"); ok {
		for _, f := range strings.FieldsFunc(list, func(c rune) bool { return c == ',' || c == ' ' || c == '"' || c == '\t' }) {
			if a, ok := gluedAddr(strings.TrimRight(f, ".;")); ok {
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

// gluedAddr parses an address that a probe's output may have run into the
// next log line's date ("10.0.0.622020-02-10"): it cuts at the first
// character no address has, then drops a trailing year ("2020").
func gluedAddr(s string) (netip.Addr, bool) {
	if a, ok := parseAddr(s); ok {
		return a, true
	}
	if i := strings.IndexFunc(s, func(c rune) bool {
		return !(c >= '0' && c <= '9' || c == '.' || c == ':' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F')
	}); i > 0 {
		s = s[:i]
	}
	for _, cut := range []int{0, 4} {
		if len(s) > cut && strings.HasPrefix(s[len(s)-cut:], "20") || cut == 0 {
			if a, ok := parseAddr(s[:len(s)-cut]); ok && a.Is4() {
				return a, true
			}
		}
	}
	return netip.Addr{}, false
}
