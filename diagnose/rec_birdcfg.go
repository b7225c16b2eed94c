package diagnose

import (
	"strconv"
	"strings"
)

// birdConfig recognises a bird.cfg as Calico's confd renders it, for BIRD
// 1.6 or 2: router id, the bgp template's local AS, and one ConfigPeer per
// "protocol bgp" block (neighbor, AS, source/local address, passive,
// password, ttl security, hold and keepalive time).
type birdConfig struct{}

func (birdConfig) Kind() string { return "bird-config" }
func (birdConfig) Whole() bool  { return true }

func (birdConfig) Recognize(source string, data []byte) (Observations, []string, bool) {
	cfg := BirdConfig{Source: source, HoldTime: -1, KeepaliveTime: -1}
	var (
		lines    []string
		cur      *ConfigPeer
		inTmpl   bool
		depth    int
		peerNode string
		tmplAS   uint32
		seen     bool
	)
	keep := func(t string) Line {
		l := Line{source, t}
		cfg.Lines = append(cfg.Lines, l)
		lines = append(lines, t)
		return l
	}
	for _, raw := range splitLines(data) {
		code, comment := splitComment(strings.TrimSpace(raw))
		if name, ok := strings.CutPrefix(comment, "For peer "); ok && depth == 0 {
			peerNode = strings.Fields(name + " x")[0]
		}
		if code == "" {
			continue
		}
		f := strings.Fields(strings.TrimSuffix(code, ";"))
		switch {
		case depth == 0 && len(f) >= 3 && f[0] == "router" && f[1] == "id":
			cfg.RouterID = strings.TrimSuffix(f[2], ";")
			seen = true
			keep(code)
		case depth == 0 && len(f) >= 4 && f[0] == "listen" && f[1] == "bgp" && f[2] == "address":
			cfg.ListenAddress = f[3]
			keep(code)
		case depth == 0 && len(f) >= 3 && f[0] == "template" && f[1] == "bgp":
			inTmpl, seen = true, true
		case depth == 0 && len(f) >= 3 && f[0] == "protocol" && f[1] == "bgp":
			seen = true
			cfg.Peers = append(cfg.Peers, ConfigPeer{Name: f[2], PeerNode: peerNode, HoldTime: -1, KeepaliveTime: -1})
			cur = &cfg.Peers[len(cfg.Peers)-1]
			cur.Line = keep(strings.TrimSuffix(code, "{"))
			peerNode = ""
		case cur != nil && depth == 1:
			parsePeerStatement(cur, f, code, keep)
		case inTmpl && depth == 1 && isTimer(f):
			v, l := parseTimer(f, code, keep)
			if f[0] == "hold" {
				cfg.HoldTime, cfg.HoldLine = v, l
			} else {
				cfg.KeepaliveTime, cfg.KeepaliveLine = v, l
			}
		case inTmpl && depth == 1 && len(f) >= 3 && f[0] == "local":
			if as, ok := asAfter(f, "as"); ok {
				tmplAS = as
				keep(code)
			}
		}
		depth += strings.Count(code, "{") - strings.Count(code, "}")
		if depth < 0 {
			depth = 0
		}
		if depth == 0 {
			cur, inTmpl = nil, false
		}
	}
	if !seen {
		return Observations{}, nil, false
	}
	cfg.LocalAS = tmplAS
	for i := range cfg.Peers {
		p := &cfg.Peers[i]
		if p.LocalAS == 0 {
			p.LocalAS = tmplAS
		}
		if p.HoldTime < 0 {
			p.HoldTime, p.HoldLine = cfg.HoldTime, cfg.HoldLine
		}
		if p.KeepaliveTime < 0 {
			p.KeepaliveTime, p.KeepaliveLine = cfg.KeepaliveTime, cfg.KeepaliveLine
		}
	}
	return Observations{BirdConfigs: []BirdConfig{cfg}}, lines, true
}

// parsePeerStatement applies one statement inside a protocol bgp block.
func parsePeerStatement(p *ConfigPeer, f []string, code string, keep func(string) Line) {
	if len(f) == 0 {
		return
	}
	if isTimer(f) {
		v, l := parseTimer(f, code, keep)
		if f[0] == "hold" {
			p.HoldTime, p.HoldLine = v, l
		} else {
			p.KeepaliveTime, p.KeepaliveLine = v, l
		}
		return
	}
	switch f[0] {
	case "neighbor":
		if len(f) >= 2 {
			p.Neighbor = strings.Split(f[1], "%")[0]
		}
		if as, ok := asAfter(f, "as"); ok {
			p.NeighborAS = as
		}
		if i := indexOf(f, "port"); i >= 0 && i+1 < len(f) {
			p.Port, _ = strconv.Atoi(f[i+1])
		}
		p.NeighborLine = keep(code)
	case "source":
		if len(f) >= 3 && f[1] == "address" {
			p.Source = f[2]
			p.SourceLine = keep(code)
		}
	case "local":
		if len(f) >= 2 && f[1] != "as" {
			p.Source = f[1]
			p.SourceLine = keep(code)
		}
		if as, ok := asAfter(f, "as"); ok {
			p.LocalAS = as
		}
	case "passive":
		p.Passive = len(f) < 2 || f[1] == "on" || f[1] == "yes"
		keep(code)
	case "password":
		p.HasPassword = true
		p.Password = strings.Trim(strings.TrimPrefix(code, "password"), " ;\"")
		keep("password \"***\";")
	case "ttl":
		p.TTLSecurity = len(f) >= 3 && f[1] == "security" && (f[2] == "on" || f[2] == "yes" || f[2] == "tx")
	}
}

// isTimer reports whether a statement is "hold time N" or "keepalive
// time N" (BIRD 1.6 and 2 spell them alike).
func isTimer(f []string) bool {
	return len(f) >= 3 && (f[0] == "hold" || f[0] == "keepalive") && f[1] == "time"
}

// parseTimer reads the seconds of a timer statement (-1 when they are not
// a number) and keeps its line.
func parseTimer(f []string, code string, keep func(string) Line) (int, Line) {
	v, err := strconv.Atoi(strings.TrimSuffix(f[2], ";"))
	if err != nil || v < 0 {
		v = -1
	}
	return v, keep(code)
}

// splitComment cuts a line at a '#' outside double quotes.
func splitComment(t string) (code, comment string) {
	inQ := false
	for i := 0; i < len(t); i++ {
		switch t[i] {
		case '"':
			inQ = !inQ
		case '#':
			if !inQ {
				return strings.TrimSpace(t[:i]), strings.TrimSpace(t[i+1:])
			}
		}
	}
	return t, ""
}

func asAfter(f []string, key string) (uint32, bool) {
	i := indexOf(f, key)
	if i < 0 || i+1 >= len(f) {
		return 0, false
	}
	n, err := strconv.ParseUint(strings.TrimSuffix(f[i+1], ";"), 10, 32)
	return uint32(n), err == nil
}

func indexOf(f []string, s string) int {
	for i, x := range f {
		if x == s {
			return i
		}
	}
	return -1
}
