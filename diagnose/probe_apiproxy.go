package diagnose

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"sort"
	"time"
)

// apiProxyProbe is what probing a node's local API server proxy (kubespray
// nginx-proxy) showed.
type apiProxyProbe struct {
	// Listen is the proxy address, e.g. 127.0.0.1:6443.
	Listen string
	// ListenOK: a TCP connect to Listen succeeded; ListenErr otherwise.
	ListenOK  bool
	ListenErr string
	// Healthz is the result of GET http://127.0.0.1:<healthz>/healthz
	// ("" when no healthz port is known); it does not prove the upstream.
	Healthz string
	// Through maps "/healthz" and "/version" to the result of an HTTPS GET
	// through the proxy.
	Through   map[string]string
	ThroughOK bool
	// Upstreams maps each upstream to the result of an HTTPS GET /healthz
	// sent to it directly; UpstreamsOK counts the answering ones.
	Upstreams   map[string]string
	UpstreamsOK int
	// Manifest is the static pod manifest's path and whether it exists.
	Manifest      string
	ManifestFound bool
}

// apiProxySpec says what to probe.
type apiProxySpec struct {
	NSPath      string
	Listen      string // "127.0.0.1:6443"
	HealthzAddr string // "127.0.0.1:8081", or ""
	Upstreams   []string
	Manifest    string
	Timeout     time.Duration
}

// probeAPIProxy probes the proxy path from the node's namespace: the
// listener, its healthz, TLS through it, and the upstreams directly.
// Every request is bounded by spec.Timeout and they run in parallel.
func probeAPIProxy(ctx context.Context, spec apiProxySpec) apiProxyProbe {
	res := apiProxyProbe{Listen: spec.Listen, Through: map[string]string{}, Upstreams: map[string]string{}, Manifest: spec.Manifest}
	if spec.Manifest != "" {
		res.ManifestFound = fileExists(spec.Manifest)
	}
	client := nsHTTPClient(spec.NSPath, spec.Timeout)
	defer client.CloseIdleConnections()
	type job struct {
		key, url string
		set      func(string, bool)
	}
	var jobs []job
	if spec.HealthzAddr != "" {
		jobs = append(jobs, job{"healthz", "http://" + spec.HealthzAddr + "/healthz", func(s string, _ bool) { res.Healthz = s }})
	}
	for _, p := range []string{"/healthz", "/version"} {
		jobs = append(jobs, job{p, "https://" + spec.Listen + p, func(s string, ok bool) {
			res.Through[p] = s
			res.ThroughOK = res.ThroughOK || ok
		}})
	}
	for _, u := range spec.Upstreams {
		jobs = append(jobs, job{u, "https://" + u + "/healthz", func(s string, ok bool) {
			res.Upstreams[u] = s
			if ok {
				res.UpstreamsOK++
			}
		}})
	}
	type answer struct {
		j  job
		s  string
		ok bool
	}
	answers := make(chan answer, len(jobs)+1)
	go func() {
		conn, err := nsDial(ctx, spec.NSPath, spec.Listen, spec.Timeout)
		if err == nil {
			conn.Close()
		}
		var s string
		if err != nil {
			s = classifyConnect(err) + " (" + err.Error() + ")"
		}
		answers <- answer{job{key: "listen"}, s, err == nil}
	}()
	for _, j := range jobs {
		go func() {
			s, ok := httpGet(ctx, client, j.url, spec.Timeout)
			answers <- answer{j, s, ok}
		}()
	}
	for range len(jobs) + 1 {
		a := <-answers
		if a.j.key == "listen" {
			res.ListenOK, res.ListenErr = a.ok, a.s
			continue
		}
		a.j.set(a.s, a.ok)
	}
	return res
}

// httpGet fetches url and describes the answer; ok is a 2xx status.
func httpGet(ctx context.Context, c *http.Client, url string, timeout time.Duration) (string, bool) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err.Error(), false
	}
	resp, err := c.Do(req)
	if err != nil {
		return "error: " + err.Error(), false
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	ok := resp.StatusCode/100 == 2
	return fmt.Sprintf("HTTP %d %q", resp.StatusCode, trimBody(body)), ok
}

func trimBody(b []byte) string {
	s := string(b)
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return s
}

// nsDial dials addr (a literal ip:port) from inside the namespace at nsPath.
func nsDial(ctx context.Context, nsPath, addr string, timeout time.Duration) (net.Conn, error) {
	if _, err := netip.ParseAddrPort(addr); err != nil {
		return nil, fmt.Errorf("dial %s: need a literal ip:port: %w", addr, err)
	}
	var conn net.Conn
	err := inNamespace(nsPath, func() error {
		d := net.Dialer{Timeout: timeout}
		var err error
		conn, err = d.DialContext(ctx, "tcp", addr)
		return err
	})
	return conn, err
}

// nsHTTPClient is an HTTP client whose connections are made inside the
// namespace. TLS is not verified: the probe asks whether an API server
// answers at all, not whether it is the right one (the report says so).
func nsHTTPClient(nsPath string, timeout time.Duration) *http.Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
			return nsDial(ctx, nsPath, addr, timeout)
		},
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // a reachability probe
		TLSHandshakeTimeout: timeout,
		DisableKeepAlives:   true,
	}
	return &http.Client{Transport: tr, Timeout: timeout}
}

// Lines renders the probe as evidence lines.
func (p apiProxyProbe) Lines() []string {
	var out []string
	if p.ListenOK {
		out = append(out, fmt.Sprintf("connect %s: connected (the proxy listens)", p.Listen))
	} else {
		out = append(out, fmt.Sprintf("connect %s: %s", p.Listen, p.ListenErr))
	}
	if p.Healthz != "" {
		out = append(out, "GET /healthz on the proxy's health port: "+p.Healthz+" (nginx answers this itself; it does not prove an upstream)")
	}
	for _, k := range []string{"/healthz", "/version"} {
		if s, ok := p.Through[k]; ok {
			out = append(out, fmt.Sprintf("GET https://%s%s through the proxy: %s", p.Listen, k, s))
		}
	}
	ups := make([]string, 0, len(p.Upstreams))
	for u := range p.Upstreams {
		ups = append(ups, u)
	}
	sort.Strings(ups)
	for _, u := range ups {
		out = append(out, fmt.Sprintf("GET https://%s/healthz (upstream, direct): %s", u, p.Upstreams[u]))
	}
	if p.Manifest != "" {
		if p.ManifestFound {
			out = append(out, "static pod manifest present: "+p.Manifest)
		} else {
			out = append(out, "static pod manifest missing: "+p.Manifest)
		}
	}
	return out
}
