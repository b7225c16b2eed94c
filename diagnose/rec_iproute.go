package diagnose

import (
	"net/netip"
	"strings"
)

// ipRoute recognises `ip route` (`ip -4 route`) output:
//
//	default via 10.0.0.254 dev eth0 proto dhcp src 10.0.0.1 metric 100
//	10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.1
//	blackhole 10.244.1.0/26 proto bird
type ipRoute struct{}

func (ipRoute) Kind() string { return "ip-route" }
func (ipRoute) Whole() bool  { return true }

func (ipRoute) Recognize(source string, data []byte) (Observations, []string, bool) {
	var (
		obs   Observations
		lines []string
		other int
	)
	for _, l := range splitLines(data) {
		t := strings.TrimSpace(l)
		f := strings.Fields(t)
		if len(f) == 0 {
			continue
		}
		r, ok := parseRouteLine(f)
		if !ok {
			other++
			continue
		}
		r.Line = Line{source, t}
		obs.Routes = append(obs.Routes, r)
		lines = append(lines, t)
	}
	// Route output is nothing but routes; tolerate a stray line or two
	// (a prompt, the command itself).
	if len(obs.Routes) == 0 || other > 2 && other > len(obs.Routes) {
		return Observations{}, nil, false
	}
	obs.RoutesSeen = true
	return obs, lines, true
}

// parseRouteLine parses one route; it needs a destination and then "dev",
// "via", "proto" or "scope".
func parseRouteLine(f []string) (Route, bool) {
	r := Route{Type: "unicast"}
	switch f[0] {
	case "blackhole", "unreachable", "prohibit", "throw", "local", "broadcast":
		r.Type = f[0]
		f = f[1:]
	}
	if len(f) < 3 {
		return Route{}, false
	}
	switch f[1] {
	case "dev", "via", "proto", "scope", "nhid", "metric":
	default:
		return Route{}, false
	}
	if f[0] == "default" {
		r.Prefix = netip.MustParsePrefix("0.0.0.0/0")
		return r, true
	}
	dst := f[0]
	if !strings.Contains(dst, "/") {
		if a, ok := parseAddr(dst); ok {
			dst += "/" + map[bool]string{true: "32", false: "128"}[a.Is4()]
		}
	}
	p, err := netip.ParsePrefix(dst)
	if err != nil {
		return Route{}, false
	}
	r.Prefix = p.Masked()
	return r, true
}
