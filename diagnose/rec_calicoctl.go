package diagnose

import "strings"

// calicoctlStatus recognises `calicoctl node status` output: "Calico
// process is running." and the "PEER ADDRESS | PEER TYPE | STATE | SINCE |
// INFO" tables, whose INFO cells may wrap onto continuation rows; the
// older `calicoctl status` ("calico-node container is running. Status:
// Up 3 hours", "Peer address | Peer type | State | Since | Info"); and
// hand-edited pastes of either: no heading, rows cut short or mid-word,
// misaligned cells, one row alone:
//
//	| 172.17.42.21 | node-to-node mesh |   up  | 16:17:25 | Established |
//	| 10.20.30.40  |       global      | start | 16:28:38 |   Connect   |
//	| 10.0.0.2 | node-to-node mesh | start | 09:00:00 | Active Socket: Connection ref
type calicoctlStatus struct{}

func (calicoctlStatus) Kind() string { return "calicoctl-node-status" }
func (calicoctlStatus) Whole() bool  { return true }

func (calicoctlStatus) Recognize(source string, data []byte) (Observations, []string, bool) {
	var (
		st    NodeStatus
		lines []string
		seen  bool
		cols  []string
	)
	add := func(l string) {
		st.Lines = append(st.Lines, Line{source, strings.TrimSpace(l)})
		lines = append(lines, strings.TrimSpace(l))
	}
	for _, l := range splitLines(data) {
		t := strings.TrimSpace(l)
		switch {
		case t == "Calico process is running.":
			st.CalicoRunning, seen = true, true
			add(l)
			continue
		case t == "Calico process is not running.":
			st.CalicoNotRunning, seen = true, true
			add(l)
			continue
		case containsFold(t, "BIRD is not running"), containsFold(t, "'bird' is not running"), containsFold(t, "'bird6' is not running"),
			containsFold(t, "unable to connect to BIRDv4 socket"),
			containsFold(t, "unable to connect to BIRDv6 socket"):
			st.BirdDown = true
			add(l)
			continue
		case strings.HasPrefix(t, "calico-node container is running."):
			st.CalicoRunning, seen = true, true
			add(l)
			continue
		case t == "calico-node container not running":
			st.CalicoNotRunning, seen = true, true
			add(l)
			continue
		case strings.HasPrefix(t, "IPv4 BGP status"), strings.HasPrefix(t, "IPv6 BGP status"), strings.HasPrefix(t, "IPv4 Bird (BGP) status"),
			strings.HasPrefix(t, "No IPv4 peers found"), strings.HasPrefix(t, "No IPv6 peers found"):
			add(l)
			continue
		}
		if !strings.HasPrefix(t, "|") {
			continue
		}
		cells := tableCells(t)
		if len(cells) >= 3 && strings.EqualFold(cells[0], "PEER ADDRESS") {
			cols, seen = cells, true
			continue
		}
		if len(cells) < 2 {
			continue
		}
		if cells[0] == "" && len(st.Peers) > 0 && len(cells) >= 5 {
			p := &st.Peers[len(st.Peers)-1]
			p.Info = strings.TrimSpace(p.Info + " " + cells[len(cells)-1])
			p.Line.Text = p.row()
			lines[len(lines)-1] = p.Line.Text
			continue
		}
		p, ok := statusRow(cells, cols != nil)
		if !ok {
			continue
		}
		p.Line = Line{source, t}
		seen = true
		st.Peers = append(st.Peers, p)
		lines = append(lines, t)
	}
	if !seen {
		return Observations{}, nil, false
	}
	return Observations{Status: []NodeStatus{st}}, lines, true
}

// tableCells splits "| a | b |" into trimmed cells.
func tableCells(row string) []string {
	row = strings.TrimSpace(row)
	row = strings.TrimPrefix(row, "|")
	row = strings.TrimSuffix(row, "|")
	parts := strings.Split(row, "|")
	for i, p := range parts {
		parts[i] = strings.TrimSpace(p)
	}
	return parts
}

// row renders the peer as one table row, wrapped INFO joined.
func (p StatusPeer) row() string {
	return "| " + strings.Join([]string{p.Address, p.Type, p.State, p.Since, p.Info}, " | ") + " |"
}

// calicoStates are the STATE column's values (BIRD's protocol states).
var calicoStates = map[string]bool{"up": true, "down": true, "start": true, "stop": true, "feed": true, "flush": true}

// bgpStates are the first words of the INFO column.
var bgpStates = map[string]bool{"Idle": true, "Connect": true, "Active": true, "OpenSent": true, "OpenConfirm": true, "Established": true, "Passive": true, "Close": true}

// statusRow reads one table row: an address, then as many of type, state,
// since and info as the paste kept. Without the heading a row must show
// that it is a BGP status row: a known peer type, state or BGP state.
func statusRow(cells []string, headed bool) (StatusPeer, bool) {
	var p StatusPeer
	a, ok := parseAddr(cells[0])
	if !ok {
		return p, false
	}
	p.Address = a.String()
	get := func(i int) string {
		if i < len(cells) {
			return cells[i]
		}
		return ""
	}
	p.Type, p.State, p.Since, p.Info = get(1), strings.ToLower(get(2)), get(3), get(4)
	if len(cells) > 5 {
		p.Info = strings.TrimSpace(strings.Join(cells[4:], " "))
	}
	p.Info = completeInfo(p.Info)
	if headed {
		return p, true
	}
	lt := strings.ToLower(p.Type)
	typed := strings.Contains(lt, "mesh") || strings.HasPrefix(lt, "global") || strings.HasPrefix(lt, "node")
	info := strings.Fields(p.Info + " x")[0]
	return p, typed || calicoStates[p.State] || bgpStates[info]
}

// knownErrors are BIRD's last errors as calicoctl prints them in INFO;
// completeInfo uses them to finish a cell a paste cut mid-word.
var knownErrors = []string{
	"Socket: Connection refused", "Socket: Connection timed out", "Socket: No route to host",
	"Socket: Connection reset by peer", "Socket: Connection closed", "Socket: Network is unreachable",
	"Socket: Host is unreachable", "Socket: Cannot assign requested address", "Socket: Address not available", "Socket: Permission denied",
	"Received: Bad peer AS", "Received: Bad BGP identifier", "Received: Hold timer expired",
	"Received: Unacceptable hold time", "Received: Authentication failure", "Received: Connection rejected",
	"BGP Error: Bad peer AS", "BGP Error: Bad BGP identifier", "BGP Error: Hold timer expired",
	"BGP Error: Unacceptable hold time", "Error: No listening socket", "Error: Kernel MD5 auth failed",
}

// completeInfo completes "Active Socket: Connection ref" to "Active
// Socket: Connection refused" when exactly one known error starts with
// the cut text (at least 12 characters of it); otherwise it returns info.
func completeInfo(info string) string {
	state, rest, ok := strings.Cut(info, " ")
	rest = strings.Join(strings.Fields(rest), " ")
	if !ok || len(rest) < 12 {
		return info
	}
	match := ""
	for _, e := range knownErrors {
		if e == rest {
			return info
		}
		if strings.HasPrefix(e, rest) {
			if match != "" {
				return info
			}
			match = e
		}
	}
	if match == "" {
		return info
	}
	return state + " " + match
}
