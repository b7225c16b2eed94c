package diagnose

import (
	"strconv"
	"strings"

	"github.com/peerlab/peerlab/internal/lazy"
)

// ssListen recognises listening TCP sockets from `ss -ltnp` (and `netstat
// -ltnp`):
//
//	LISTEN 0 128 0.0.0.0:179 0.0.0.0:* users:(("bird",pid=1234,fd=7))
//	tcp 0 0 127.0.0.1:6443 0.0.0.0:* LISTEN 4321/nginx: master
type ssListen struct{}

func (ssListen) Kind() string { return "ss-listen" }
func (ssListen) Whole() bool  { return true }

var ssUsersRE = lazy.Regexp(`users:\(\("([^"]+)"`)

func (ssListen) Recognize(source string, data []byte) (Observations, []string, bool) {
	var (
		obs    Observations
		lines  []string
		header bool
	)
	for _, l := range splitLines(data) {
		t := strings.TrimSpace(l)
		f := strings.Fields(t)
		if len(f) >= 4 && (f[0] == "State" || f[0] == "Netid") && strings.Contains(t, "Local Address") {
			header = true
			continue
		}
		if len(f) >= 4 && f[0] == "Proto" && strings.Contains(t, "Local Address") {
			header = true
			continue
		}
		ln, ok := parseListenRow(f)
		if !ok {
			continue
		}
		if m := ssUsersRE().FindStringSubmatch(t); m != nil {
			ln.Process = m[1]
		} else if len(f) >= 7 && f[5] == "LISTEN" {
			if _, name, ok := strings.Cut(f[6], "/"); ok {
				ln.Process = strings.TrimSuffix(name, ":")
			}
		}
		ln.Line = Line{source, t}
		obs.Listeners = append(obs.Listeners, ln)
		lines = append(lines, t)
	}
	if len(obs.Listeners) == 0 && !header {
		return Observations{}, nil, false
	}
	obs.ListenersSeen = true
	obs.ListenersSource = source
	return obs, lines, true
}

// parseListenRow finds the local address:port of an ss or netstat row.
func parseListenRow(f []string) (Listener, bool) {
	var local string
	switch {
	case len(f) >= 4 && f[0] == "LISTEN":
		local = f[3]
	case len(f) >= 5 && (f[0] == "tcp" || f[0] == "tcp6") && f[1] == "LISTEN":
		local = f[4] // ss -ltnpa with Netid column
	case len(f) >= 6 && (f[0] == "tcp" || f[0] == "tcp6") && f[5] == "LISTEN":
		local = f[3]
	default:
		return Listener{}, false
	}
	i := strings.LastIndexByte(local, ':')
	if i < 0 {
		return Listener{}, false
	}
	port, err := strconv.Atoi(local[i+1:])
	if err != nil || port < 0 || port > 65535 {
		return Listener{}, false
	}
	addr := strings.Trim(local[:i], "[]")
	if j := strings.IndexByte(addr, '%'); j >= 0 {
		addr = addr[:j]
	}
	return Listener{Addr: addr, Port: port}, true
}
