package diagnose

import (
	"strings"

	"github.com/peerlab/peerlab/internal/lazy"
)

// calicoNodeLog recognises calico-node (confd, felix, startup) log lines
// about reaching the Kubernetes API server and listing the datastore:
//
//	... dial tcp 127.0.0.1:6443: connect: connection refused
//	... Failed to list *v3.BGPPeer: Get "https://10.96.0.1:443/...": dial tcp 10.96.0.1:443: i/o timeout
//	... failed to connect to the API server
//	2017-02-20T11:16:27Z tigera-lwr-kubetest2-master confd[31]: ERROR exit status 1
//
// The kubelet and other client-go programs on the node log the same
// errors for the same local proxy, and are read alike:
//
//	kubelet[127661]: ... Get https://localhost:6443/api/v1/nodes/k8s-03: net/http: request canceled (Client.Timeout exceeded while awaiting headers)
type calicoNodeLog struct{}

func (calicoNodeLog) Kind() string { return "calico-node-log" }
func (calicoNodeLog) Whole() bool  { return false }

var (
	dialRE = lazy.Regexp(`dial tcp ([\[\]0-9A-Za-z.:\-]+:\d+): (.*)`)
	urlRE  = lazy.Regexp(`https?://([\[\]0-9A-Za-z.:\-]+:\d+)`)
	listRE = lazy.Regexp(`(?i)failed to (list|watch) \*?v\d\.\w+`)
	// confdErrorRE is an ERROR line of confd, in the svlogd form
	// ("2017-02-20T11:16:27Z host confd[31]: ERROR exit status 1") or
	// calico-node's ("[ERROR][85] confd/...").
	confdErrorRE = lazy.Regexp(`\bconfd(?:\[\d+\])?: ERROR\b|\[ERROR\]\[\d+\] confd/`)
	apiMsgRE     = lazy.Regexp(`(?i)(failed to connect to the api server|unable to connect to the server|error connecting to datastore|failed to (create|initialize) (the )?(datastore|calico) client|connection to the server \S+ was refused)`)
)

func (calicoNodeLog) Recognize(source string, data []byte) (Observations, []string, bool) {
	var (
		obs   Observations
		lines []string
	)
	for _, t := range logLines(data) {
		hit := false
		if e, ok := parseAPIError(t); ok {
			e.Accepted = !e.Dial && e.Addr != "" && acceptedText(t)
			e.Line = Line{source, t}
			obs.APIErrors = append(obs.APIErrors, e)
			hit = true
		}
		if listRE().MatchString(t) || (apiMsgRE().MatchString(t) && !hit) {
			obs.DatastoreErrors = append(obs.DatastoreErrors, Line{source, t})
			hit = true
		}
		if !hit && confdErrorRE().MatchString(t) {
			obs.ConfdErrors = append(obs.ConfdErrors, Line{source, t})
			hit = true
		}
		if hit {
			lines = append(lines, t)
		}
	}
	return obs, lines, len(lines) > 0
}

// parseAPIError classifies a line that dials the API server.
func parseAPIError(t string) (APIError, bool) {
	var e APIError
	if m := dialRE().FindStringSubmatch(t); m != nil {
		e.Addr = m[1]
		e.Reason = dialReason(m[2])
		e.Dial = true
		return e, true
	}
	if apiMsgRE().MatchString(t) {
		if m := urlRE().FindStringSubmatch(t); m != nil {
			e.Addr = m[1]
		} else if i := strings.Index(t, "connection to the server "); i >= 0 {
			e.Addr = strings.Fields(t[i+len("connection to the server "):])[0]
		}
		e.Reason = dialReason(t)
		return e, true
	}
	if m := urlRE().FindStringSubmatch(t); m != nil && (containsFold(t, "EOF") || containsFold(t, "TLS handshake timeout") ||
		containsFold(t, "context deadline exceeded") || containsFold(t, "connection reset") || containsFold(t, "awaiting headers")) {
		e.Addr = m[1]
		e.Reason = dialReason(t)
		return e, true
	}
	return e, false
}

// acceptedText reports whether a client error says the server accepted
// the TCP connection and then failed to answer: Go's "Client.Timeout
// exceeded while awaiting headers", a TLS handshake timeout, EOF or a
// reset after the request.
func acceptedText(t string) bool {
	return containsFold(t, "awaiting headers") || containsFold(t, "TLS handshake timeout") ||
		containsFold(t, "EOF") || containsFold(t, "connection reset")
}

// dialReason maps a Go network error text to a short reason.
func dialReason(s string) string {
	switch {
	case containsFold(s, "connection refused"), containsFold(s, "was refused"):
		return "refused"
	case containsFold(s, "no route to host"), containsFold(s, "network is unreachable"):
		return "no-route"
	case containsFold(s, "i/o timeout"), containsFold(s, "deadline exceeded"), containsFold(s, "timed out"), containsFold(s, "TLS handshake timeout"),
		containsFold(s, "Timeout exceeded"):
		return "timeout"
	case containsFold(s, "connection reset"):
		return "reset"
	case containsFold(s, "EOF"):
		return "eof"
	case containsFold(s, "x509"), containsFold(s, "tls:"):
		return "tls"
	}
	return "other"
}
