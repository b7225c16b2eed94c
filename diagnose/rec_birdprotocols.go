package diagnose

import (
	"bytes"
	"strings"

	"github.com/peerlab/peerlab/internal/bird"
)

// birdProtocols recognises `birdc show protocols` and `show protocols all`
// of BIRD 1.6 and 2.x, with or without birdc -v numeric prefixes, through
// the internal/bird parsers.
type birdProtocols struct{}

func (birdProtocols) Kind() string { return "bird-protocols" }
func (birdProtocols) Whole() bool  { return true }

// knownProtos are BIRD protocol types seen in Calico's configs.
var knownProtos = map[string]bool{
	"BGP": true, "Device": true, "Kernel": true, "Direct": true, "Static": true, "Pipe": true, "BFD": true, "OSPF": true, "RIP": true,
}

func (birdProtocols) Recognize(source string, data []byte) (Observations, []string, bool) {
	details, err := bird.ParseProtocolDetails(bytes.NewReader(capInput(data)))
	if err != nil || len(details) == 0 {
		return Observations{}, nil, false
	}
	if !hasProtocolHeader(data) {
		// Without the heading, every row must be a known protocol type:
		// otherwise a log line could pass for a row.
		for _, d := range details {
			if !knownProtos[d.Proto] {
				return Observations{}, nil, false
			}
		}
	}
	rows := protocolRowLines(data)
	var (
		obs   Observations
		lines []string
	)
	for i, d := range details {
		p := ProtocolObs{ProtocolDetail: d, Detailed: len(d.Fields) > 0}
		if i < len(rows) {
			p.Line = Line{source, rows[i]}
		} else {
			p.Line = Line{source, strings.Join(strings.Fields(d.Name+" "+d.Proto+" "+d.State+" "+d.Info+" "+d.InfoDetail), " ")}
		}
		lines = append(lines, p.Line.Text)
		if d.LastError != "" {
			p.LastErrorLine = Line{source, "Last error: " + d.LastError}
			if d.InfoDetail == "" {
				lines = append(lines, "  "+p.LastErrorLine.Text)
			}
		}
		obs.Protocols = append(obs.Protocols, p)
	}
	return obs, lines, true
}

func capInput(data []byte) []byte {
	if len(data) > maxInput {
		return data[:maxInput]
	}
	return data
}

// hasProtocolHeader looks for BIRD's "name proto table state" heading.
func hasProtocolHeader(data []byte) bool {
	for _, l := range splitLines(data) {
		f := strings.Fields(strings.ToLower(stripBirdCode(l)))
		if len(f) >= 4 && f[0] == "name" && f[1] == "proto" && f[2] == "table" && f[3] == "state" {
			return true
		}
	}
	return false
}

// protocolRowLines returns the protocol rows as printed (reply codes
// stripped), in order, to quote them; the parser decides what a row is.
func protocolRowLines(data []byte) []string {
	var out []string
	for _, l := range splitLines(data) {
		t := strings.TrimSpace(stripBirdCode(l))
		if t == "" {
			continue
		}
		ps, err := bird.ParseProtocols(strings.NewReader(t + "\n"))
		if err == nil && len(ps) == 1 {
			out = append(out, strings.Join(strings.Fields(t), " "))
		}
	}
	return out
}

// stripBirdCode removes a leading "NNNN-" or "NNNN " reply code.
func stripBirdCode(l string) string {
	if len(l) >= 5 && (l[4] == '-' || l[4] == ' ') {
		for i := 0; i < 4; i++ {
			if l[i] < '0' || l[i] > '9' {
				return l
			}
		}
		return l[5:]
	}
	return l
}
