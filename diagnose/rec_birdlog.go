package diagnose

import (
	"regexp"
	"strings"
)

// birdLog recognises BIRD log lines, as BIRD writes them to its log file
// ("2024-05-01 09:00:00.123 <ERR> Mesh_10_0_0_2: Error: Bad peer AS"), to
// syslog ("bird: Mesh_10_0_0_2: Received: Bad peer AS") or inside the
// calico-node log ("bird: BGP: Unexpected connect from unknown address
// 172.17.0.1 (port 42345)").
type birdLog struct{}

func (birdLog) Kind() string { return "bird-log" }
func (birdLog) Whole() bool  { return false }

var (
	birdProtoRE   = regexp.MustCompile(`\b((?:Mesh|Node|Global)_[0-9A-Za-z_]+): (.+)$`)
	unknownAddrRE = regexp.MustCompile(`Unexpected connect from unknown address ([0-9A-Fa-f.:]+)`)
	birdGlobalRE  = regexp.MustCompile(`(?i)(address already in use|cannot open listening socket|kernel does not support tcp md5|cannot assign requested address|no listening socket)`)
)

func (birdLog) Recognize(source string, data []byte) (Observations, []string, bool) {
	var (
		obs   Observations
		lines []string
	)
	for _, l := range splitLines(data) {
		t := strings.TrimSpace(l)
		if t == "" || len(t) > 8192 {
			continue
		}
		bl, ok := parseBirdLogLine(t)
		if !ok {
			continue
		}
		bl.Line = Line{source, t}
		obs.BirdLog = append(obs.BirdLog, bl)
		lines = append(lines, t)
	}
	return obs, lines, len(lines) > 0
}

// parseBirdLogLine classifies one line; ok is false for lines of no
// interest, which includes protocol rows of `show protocols` (no colon
// after the name).
func parseBirdLogLine(t string) (BirdLogLine, bool) {
	var bl BirdLogLine
	if m := unknownAddrRE.FindStringSubmatch(t); m != nil {
		if a, ok := parseAddr(m[1]); ok {
			bl.UnknownAddress = a.String()
			bl.Message = m[0]
			return bl, true
		}
	}
	if m := birdProtoRE.FindStringSubmatch(t); m != nil {
		msg := strings.TrimSpace(m[2])
		if !interestingBirdMessage(msg) {
			return bl, false
		}
		bl.Protocol, bl.Message = m[1], msg
		return bl, true
	}
	if birdGlobalRE.MatchString(t) && looksLikeBirdLine(t) {
		bl.Message = t
		return bl, true
	}
	return bl, false
}

// interestingBirdMessage keeps errors and state changes, not route traces.
func interestingBirdMessage(msg string) bool {
	for _, p := range []string{"Error:", "Received:", "BGP Error:", "Socket:", "Socket error", "Automatic shutdown:", "Cannot", "State changed", "Kernel", "Connected to table", "Starting", "Initializing"} {
		if strings.HasPrefix(msg, p) || strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

// looksLikeBirdLine reports whether a line that is not about a protocol
// still comes from BIRD.
func looksLikeBirdLine(t string) bool {
	for _, p := range []string{"bird:", "bird6:", "<ERR>", "<WARN>", "<INFO>", "<RMT>", "<TRACE>", "BGP:", "bird["} {
		if strings.Contains(t, p) {
			return true
		}
	}
	return false
}
