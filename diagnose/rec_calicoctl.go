package diagnose

import "strings"

// calicoctlStatus recognises `calicoctl node status` output: "Calico
// process is running." and the "PEER ADDRESS | PEER TYPE | STATE | SINCE |
// INFO" tables, whose INFO cells may wrap onto continuation rows.
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
		case containsFold(t, "BIRD is not running"), containsFold(t, "unable to connect to BIRDv4 socket"),
			containsFold(t, "unable to connect to BIRDv6 socket"):
			st.BirdDown = true
			add(l)
			continue
		case strings.HasPrefix(t, "IPv4 BGP status"), strings.HasPrefix(t, "IPv6 BGP status"),
			strings.HasPrefix(t, "No IPv4 peers found"), strings.HasPrefix(t, "No IPv6 peers found"):
			add(l)
			continue
		}
		if !strings.HasPrefix(t, "|") {
			continue
		}
		cells := tableCells(t)
		if len(cells) >= 5 && strings.EqualFold(cells[0], "PEER ADDRESS") {
			cols, seen = cells, true
			continue
		}
		if cols == nil || len(cells) < 5 {
			continue
		}
		if cells[0] == "" && len(st.Peers) > 0 {
			p := &st.Peers[len(st.Peers)-1]
			p.Info = strings.TrimSpace(p.Info + " " + cells[4])
			p.Line.Text = p.row()
			lines[len(lines)-1] = p.Line.Text
			continue
		}
		p := StatusPeer{Address: cells[0], Type: cells[1], State: cells[2], Since: cells[3], Info: cells[4], Line: Line{source, t}}
		if _, ok := parseAddr(p.Address); !ok {
			continue
		}
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
