package bird

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// ErrNoProtocol is returned by ParseProtocolDetail when the text holds no
// protocol row.
var ErrNoProtocol = errors.New("bird: no protocol found in text")

// protoStates are the values of the State column (proto_state_name in BIRD).
var protoStates = map[string]bool{
	"up": true, "down": true, "start": true, "stop": true, "feed": true, "flush": true,
}

// textLines reads r and returns its lines with everything that is not
// protocol table content removed: BIRD reply-code prefixes ("1002-",
// "0000 "), raw continuation markers, birdc -v indentation, async "+" lines,
// greetings, "bird>" prompts and carriage returns. Indentation that is part
// of the table itself is kept, though the parsers do not rely on it.
func textLines(r io.Reader) ([]string, error) {
	return scanLines(r, true)
}

// scanLines is textLines with the reply-code stripping optional.
func scanLines(r io.Reader, strip bool) ([]string, error) {
	sc := bufio.NewScanner(r)
	// A small first buffer: the scanner grows it for long lines, and
	// callers parse single rows too (diagnose quotes protocol rows one
	// by one), where 64 KiB per call dominated the time.
	sc.Buffer(make([]byte, 0, 4096), maxLineLen)
	var out []string
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r \t")
		if strings.HasPrefix(line, "+") {
			continue
		}
		if strip {
			line = stripCode(line)
		}
		t := strings.TrimSpace(line)
		switch {
		case t == "":
			continue
		case strings.HasPrefix(t, "bird>"):
			continue
		case strings.HasPrefix(t, "BIRD ") && strings.HasSuffix(t, "ready."):
			continue
		}
		out = append(out, line)
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("bird: read protocol text: %w", err)
	}
	return out, nil
}

// countFields splits a "[Total:] N of M routes …" line, or returns nil.
func countFields(t string) []string {
	f := strings.Fields(t)
	g := f
	if len(g) > 0 && g[0] == "Total:" {
		g = g[1:]
	}
	if len(g) < 4 || g[1] != "of" || g[3] != "routes" {
		return nil
	}
	if _, err := strconv.Atoi(g[0]); err != nil {
		return nil
	}
	return f
}

// stripCode removes a leading "NNNN-" or "NNNN " reply prefix, if any.
func stripCode(line string) string {
	if len(line) < 4 {
		return line
	}
	for i := 0; i < 4; i++ {
		if line[i] < '0' || line[i] > '9' {
			return line
		}
	}
	if len(line) == 4 {
		return ""
	}
	if line[4] == '-' || line[4] == ' ' {
		return line[5:]
	}
	return line
}

// parseRow recognises a protocol row of `show protocols`:
// NAME PROTO TABLE STATE SINCE... INFO...
func parseRow(line string) (Protocol, bool) {
	f := strings.Fields(line)
	if len(f) < 4 || !protoStates[strings.ToLower(f[3])] {
		return Protocol{}, false
	}
	if strings.HasSuffix(f[0], ":") || strings.HasSuffix(f[1], ":") {
		return Protocol{}, false
	}
	if c := f[1][0]; c < 'A' || c > 'Z' {
		return Protocol{}, false
	}
	p := Protocol{Name: f[0], Proto: f[1], Table: f[2], State: strings.ToLower(f[3])}
	if p.Table == "---" {
		p.Table = ""
	}
	rest := f[4:]
	var since []string
	for len(rest) > 0 && len(since) < 2 && looksLikeTime(rest[0]) {
		since = append(since, rest[0])
		rest = rest[1:]
	}
	p.Since = strings.Join(since, " ")
	if len(rest) > 0 {
		p.Info = rest[0]
		p.InfoDetail = strings.Join(rest[1:], " ")
	}
	return p, true
}

// looksLikeTime reports whether a token is a BIRD time or date such as
// "01:24:17", "01:24:17.713" or "2024-05-01".
func looksLikeTime(tok string) bool {
	if tok == "" || tok[0] < '0' || tok[0] > '9' {
		return false
	}
	for _, c := range tok {
		if (c < '0' || c > '9') && c != ':' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

// isHeader reports whether line is the "name proto table state since info" heading.
func isHeader(line string) bool {
	f := strings.Fields(strings.ToLower(line))
	return len(f) >= 4 && f[0] == "name" && f[1] == "proto" && f[2] == "table" && f[3] == "state"
}

// ParseProtocols parses `show protocols` (or `show protocols all`, whose
// detail lines it skips) as printed by BIRD 1.6 or 2.x, raw from the control
// socket, from birdc with or without -v, or pasted by hand. Lines it does not
// recognise are ignored.
func ParseProtocols(r io.Reader) ([]Protocol, error) {
	lines, err := textLines(r)
	if err != nil {
		return nil, err
	}
	var out []Protocol
	for _, l := range lines {
		if isHeader(l) {
			continue
		}
		if p, ok := parseRow(l); ok {
			out = append(out, p)
		}
	}
	return out, nil
}

// ParseProtocolDetails parses `show protocols all [NAME]` output of BIRD 1.6
// or 2.x in any of the forms ParseProtocols accepts, one ProtocolDetail per
// protocol row.
func ParseProtocolDetails(r io.Reader) ([]ProtocolDetail, error) {
	lines, err := textLines(r)
	if err != nil {
		return nil, err
	}
	var (
		out []ProtocolDetail
		cur *ProtocolDetail
		ch  *Channel
	)
	flush := func() {
		if cur == nil {
			return
		}
		if len(cur.Channels) > 0 {
			cur.Routes = RouteCounts{}
			for _, c := range cur.Channels {
				cur.Routes = cur.Routes.add(c.Routes)
			}
		}
		out = append(out, *cur)
	}
	for _, l := range lines {
		if isHeader(l) {
			continue
		}
		if p, ok := parseRow(l); ok {
			flush()
			cur = &ProtocolDetail{Protocol: p, Fields: map[string]string{}}
			ch = nil
			continue
		}
		if cur == nil {
			continue
		}
		t := strings.TrimSpace(l)
		if name, ok := strings.CutPrefix(t, "Channel "); ok && !strings.Contains(t, ":") {
			cur.Channels = append(cur.Channels, Channel{Name: strings.TrimSpace(name)})
			ch = &cur.Channels[len(cur.Channels)-1]
			continue
		}
		key, val, ok := strings.Cut(t, ":")
		if !ok {
			continue
		}
		key = strings.Join(strings.Fields(key), " ")
		val = strings.TrimSpace(val)
		cur.Fields[key] = val
		applyField(cur, ch, strings.ToLower(key), val)
	}
	flush()
	return out, nil
}

// ParseProtocolDetail parses `show protocols all NAME` and returns the first
// protocol in the text, or ErrNoProtocol.
func ParseProtocolDetail(r io.Reader) (ProtocolDetail, error) {
	all, err := ParseProtocolDetails(r)
	if err != nil {
		return ProtocolDetail{}, err
	}
	if len(all) == 0 {
		return ProtocolDetail{}, ErrNoProtocol
	}
	return all[0], nil
}

// applyField stores one "key: value" line of a detail block; key is lower
// case with single spaces. Inside a BIRD 2 channel block, channel keys go to
// the channel.
func applyField(d *ProtocolDetail, ch *Channel, key, val string) {
	if ch != nil {
		switch key {
		case "state":
			ch.State = val
			return
		case "table":
			ch.Table = val
			return
		case "routes":
			ch.Routes = parseRouteCounts(val)
			return
		}
	}
	switch key {
	case "description":
		d.Description = val
	case "bgp state":
		d.BGPState = firstField(val)
	case "neighbor address":
		addr := firstField(val)
		if i := strings.IndexByte(addr, '%'); i >= 0 {
			addr = addr[:i]
		}
		d.NeighborAddress = addr
	case "neighbor port":
		d.NeighborPort, _ = strconv.Atoi(firstField(val))
	case "neighbor as":
		d.NeighborAS = parseASN(val)
	case "local as":
		d.LocalAS = parseASN(val)
	case "neighbor id":
		d.NeighborID = firstField(val)
	case "source address":
		d.SourceAddress = firstField(val)
	case "session":
		d.Session = val
	case "last error":
		d.LastError = val
	case "hold timer":
		d.HoldTimer = parseTimer(val)
	case "keepalive timer":
		d.KeepaliveTimer = parseTimer(val)
	case "connect delay", "start delay":
		d.ConnectDelay = parseTimer(val)
	case "error wait":
		d.ErrorWait = parseTimer(val)
	case "routes":
		d.Routes = parseRouteCounts(val)
	}
}

func firstField(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return ""
}

func parseASN(s string) uint32 {
	n, err := strconv.ParseUint(firstField(s), 10, 32)
	if err != nil {
		return 0
	}
	return uint32(n)
}

// parseTimer parses "219/240" (BIRD 1.6) or "225.742/240" (BIRD 2).
func parseTimer(s string) Timer {
	left, total, ok := strings.Cut(firstField(s), "/")
	if !ok {
		return Timer{}
	}
	return Timer{Left: parseSeconds(left), Total: parseSeconds(total)}
}

func parseSeconds(s string) time.Duration {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f > 1e9 {
		return 0
	}
	return time.Duration(f * float64(time.Second)).Round(time.Millisecond)
}

// parseRouteCounts parses "1 imported, 2 filtered, 1 exported, 1 preferred".
func parseRouteCounts(s string) RouteCounts {
	var rc RouteCounts
	for _, part := range strings.Split(s, ",") {
		f := strings.Fields(part)
		if len(f) < 2 {
			continue
		}
		n, err := strconv.Atoi(f[0])
		if err != nil {
			continue
		}
		switch f[1] {
		case "imported":
			rc.Imported = n
		case "filtered":
			rc.Filtered = n
		case "exported":
			rc.Exported = n
		case "preferred":
			rc.Preferred = n
		}
	}
	return rc
}

// ParseRouteCount parses `show route count` of BIRD 1.6 ("3 of 3 routes for
// 3 networks") or BIRD 2 (one line per table and a "Total: ..." line) and
// returns the number of routes shown (the first number), summed over tables.
func ParseRouteCount(r io.Reader) (int, error) {
	// Lines are read unstripped: a count such as "2000 of 2001 routes"
	// starts with four digits and a space, like a reply code.
	lines, err := scanLines(r, false)
	if err != nil {
		return 0, err
	}
	total, sum, found, hasTotal := 0, 0, false, false
	for _, l := range lines {
		t := strings.TrimSpace(l)
		f := countFields(t)
		if f == nil {
			f = countFields(strings.TrimSpace(stripCode(l)))
		}
		if f == nil {
			continue
		}
		isTotal := f[0] == "Total:"
		if isTotal {
			f = f[1:]
		}
		n, err := strconv.Atoi(f[0])
		if err != nil {
			continue
		}
		found = true
		if isTotal {
			total, hasTotal = n, true
		} else {
			sum += n
		}
	}
	if !found {
		return 0, fmt.Errorf("bird: no route count in text")
	}
	if hasTotal {
		return total, nil
	}
	return sum, nil
}
