package diagnose

import (
	"net/netip"
	"strings"
)

// ipAddr recognises `ip -4 addr` (and `ip addr`, `ip -br addr`) output:
//
//	2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP group default qlen 1000
//	    inet 10.0.0.1/24 brd 10.0.0.255 scope global eth0
//	eth0             UP             10.0.0.1/24
type ipAddr struct{}

func (ipAddr) Kind() string { return "ip-addr" }
func (ipAddr) Whole() bool  { return true }

func (ipAddr) Recognize(source string, data []byte) (Observations, []string, bool) {
	var (
		ifs   []Interface
		cur   *Interface
		lines []string
		long  bool
	)
	for _, l := range splitLines(data) {
		t := strings.TrimSpace(l)
		f := strings.Fields(t)
		if len(f) == 0 {
			continue
		}
		// "2: eth0: <...> mtu ..." starts an interface.
		if len(f) >= 3 && strings.HasSuffix(f[0], ":") && isDigits(strings.TrimSuffix(f[0], ":")) && strings.HasSuffix(f[1], ":") && strings.HasPrefix(f[2], "<") {
			name := strings.TrimSuffix(f[1], ":")
			if i := strings.IndexByte(name, '@'); i >= 0 {
				name = name[:i]
			}
			ifs = append(ifs, Interface{Name: name, Down: longFormDown(f[2:]), Lines: []Line{{source, t}}})
			cur = &ifs[len(ifs)-1]
			long = true
			lines = append(lines, t)
			continue
		}
		if (f[0] == "inet" || f[0] == "inet6") && len(f) >= 2 && cur != nil {
			if p, err := netip.ParsePrefix(f[1]); err == nil {
				cur.Prefixes = append(cur.Prefixes, p)
				cur.Lines = append(cur.Lines, Line{source, t})
				lines = append(lines, t)
			}
			continue
		}
		// Brief form: NAME STATE ADDR/LEN...
		if !long && len(f) >= 3 && isLinkState(f[1]) {
			it := Interface{Name: strings.Split(f[0], "@")[0], Down: f[1] == "DOWN" || f[1] == "LOWERLAYERDOWN", Lines: []Line{{source, t}}}
			for _, a := range f[2:] {
				if p, err := netip.ParsePrefix(a); err == nil {
					it.Prefixes = append(it.Prefixes, p)
				}
			}
			if len(it.Prefixes) > 0 {
				ifs = append(ifs, it)
				lines = append(lines, t)
			}
		}
	}
	n := 0
	for _, it := range ifs {
		n += len(it.Prefixes)
	}
	if n == 0 {
		return Observations{}, nil, false
	}
	return Observations{Interfaces: ifs, AddrsSeen: true}, lines, true
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func isLinkState(s string) bool {
	switch s {
	case "UP", "DOWN", "UNKNOWN", "LOWERLAYERDOWN", "DORMANT", "NOTPRESENT":
		return true
	}
	return false
}

// longFormDown reads the link state of an `ip addr` interface line from
// its flags and state: "<BROADCAST,MULTICAST> ... state DOWN" is down, and
// so is an up link with NO-CARRIER.
func longFormDown(f []string) bool {
	flags := strings.Split(strings.Trim(f[0], "<>"), ",")
	up := false
	for _, fl := range flags {
		switch fl {
		case "UP":
			up = true
		case "NO-CARRIER":
			return true
		}
	}
	for i := 1; i+1 < len(f); i++ {
		if f[i] == "state" && (f[i+1] == "DOWN" || f[i+1] == "LOWERLAYERDOWN") {
			return true
		}
	}
	return !up
}
