package diagnose

import "strings"

// nginxConfig recognises the nginx.conf of kubespray's nginx-proxy: a
// stream server listening on 127.0.0.1:6443 that proxies to an upstream of
// the masters' :6443, and an http server answering /healthz (on :8081).
type nginxConfig struct{}

func (nginxConfig) Kind() string { return "nginx-conf" }
func (nginxConfig) Whole() bool  { return true }

func (nginxConfig) Recognize(source string, data []byte) (Observations, []string, bool) {
	var (
		conf      NginxConf
		lines     []string
		stack     []string
		seenProxy bool
	)
	keep := func(t string) {
		conf.Lines = append(conf.Lines, Line{source, t})
		lines = append(lines, t)
	}
	in := func(name string) bool {
		for _, s := range stack {
			if s == name {
				return true
			}
		}
		return false
	}
	for _, raw := range splitLines(data) {
		code, _ := splitComment(strings.TrimSpace(raw))
		if code == "" {
			continue
		}
		// A line may hold several statements and braces; handle the
		// common layouts: "name {", "stmt;", "}" and "events { ... }".
		for _, stmt := range splitNginxStatements(code) {
			switch {
			case stmt == "}":
				if len(stack) > 0 {
					stack = stack[:len(stack)-1]
				}
			case strings.HasSuffix(stmt, "{"):
				f := strings.Fields(strings.TrimSuffix(stmt, "{"))
				name := ""
				if len(f) > 0 {
					name = f[0]
				}
				stack = append(stack, name)
				if name == "upstream" || name == "stream" {
					keep(stmt)
				}
			default:
				f := strings.Fields(strings.TrimSuffix(stmt, ";"))
				if len(f) < 2 {
					if len(f) == 1 && f[0] == "least_conn" && in("upstream") {
						keep(stmt)
					}
					continue
				}
				switch {
				case f[0] == "server" && in("upstream"):
					conf.Upstreams = append(conf.Upstreams, f[1])
					keep(stmt)
				case f[0] == "listen" && in("stream"):
					conf.Listen = append(conf.Listen, f[1])
					keep(stmt)
				case f[0] == "listen" && in("http"):
					conf.HealthzPort = hostPortPort(f[1])
					keep(stmt)
				case f[0] == "proxy_pass" || f[0] == "proxy_connect_timeout":
					seenProxy = true
					keep(stmt)
				}
			}
		}
	}
	if !seenProxy && len(conf.Upstreams) == 0 {
		return Observations{}, nil, false
	}
	if len(conf.Listen) == 0 && len(conf.Upstreams) == 0 {
		return Observations{}, nil, false
	}
	return Observations{Nginx: []NginxConf{conf}}, lines, true
}

// splitNginxStatements splits "a { b; c; }" into "a {", "b;", "c;", "}".
func splitNginxStatements(code string) []string {
	var (
		out []string
		cur strings.Builder
	)
	flush := func(end string) {
		s := strings.TrimSpace(cur.String())
		cur.Reset()
		switch {
		case end == ";" && s != "":
			out = append(out, s+";")
		case end == "{":
			out = append(out, strings.TrimSpace(s+" {"))
		}
	}
	for _, c := range code {
		switch c {
		case '{':
			flush("{")
		case ';':
			flush(";")
		case '}':
			if s := strings.TrimSpace(cur.String()); s != "" {
				flush("")
			}
			cur.Reset()
			out = append(out, "}")
		default:
			cur.WriteRune(c)
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, s)
	}
	return out
}

// hostPortPort returns the port of "8081", "0.0.0.0:8081" or "[::]:8081".
func hostPortPort(s string) string {
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		return s[i+1:]
	}
	return s
}
