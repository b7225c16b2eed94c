package diagnose

import (
	"strings"

	"github.com/peerlab/peerlab/internal/lazy"
)

// birdLog recognises BIRD log lines, as BIRD writes them to its log file
// ("2024-05-01 09:00:00.123 <ERR> Mesh_10_0_0_2: Error: Bad peer AS",
// "2024-05-14 12:26:07 <WARN> I/O loop cycle took 5720 ms for 47
// events", any level: DBG, TRACE, INFO, RMT, WARN, ERR, AUTH, FATAL,
// BUG), to syslog or journald ("bird: Mesh_10_0_0_2: Received: Bad peer
// AS", "bird[812]: ...", "bird6: ..."), inside the calico-node log
// ("2017-08-05_09:50:21.93291 bird: Mesh_10_39_1_219: State changed to
// start", "bird: BGP: Unexpected connect from unknown address 172.17.0.1
// (port 42345)") or bare ("Mesh_10_0_0_2: Socket error: bind: Address
// already in use"). Protocols of any name are read when the line
// carries BIRD's prefix; without it only Calico's Mesh_/Node_/Global_.
type birdLog struct{}

func (birdLog) Kind() string { return "bird-log" }
func (birdLog) Whole() bool  { return false }

var (
	birdProtoRE   = lazy.Regexp(`\b((?:Mesh|Node|Global)_[0-9A-Za-z_]+): (.+)$`)
	unknownAddrRE = lazy.Regexp(`Unexpected connect from unknown address ([0-9A-Fa-f.:]+)`)
	birdGlobalRE  = lazy.Regexp(`(?i)(address already in use|cannot open listening socket|kernel does not support tcp md5|cannot assign requested address|address not available|no listening socket|tcp_md5sig|socket error)`)
	// birdPrefixRE is what BIRD (or syslog, journald, svlogd) puts before
	// "PROTO: message": a log-file time and level, or "bird:"/"bird[pid]:".
	birdPrefixRE = lazy.Regexp(`(?:<(?:DBG|TRACE|INFO|RMT|WARN|ERR|AUTH|FATAL|BUG)>|\bbird6?(?:\[\d+\])?:)\s+([A-Za-z][A-Za-z0-9_.\-]*): (.+)$`)
	// birdNoConfigRE is BIRD failing to read its configuration at
	// start ("bird: Unable to open configuration file
	// /etc/calico/confd/config/bird.cfg: No such file or directory",
	// "bird: /etc/bird/bird.cfg:12:3 syntax error"), after which it exits.
	birdNoConfigRE = lazy.Regexp(`\bbird6?(?:\[\d+\])?: (?:Unable to open configuration file .*|\S+\.cfg:\d+:\d+ .*)$`)
	// birdSlowRE are BIRD's warnings that it was too busy to run its
	// timers in time, which explains a hold timer expiring.
	birdSlowRE = lazy.Regexp(`(?i)(I/O loop cycle took \d+(?:\.\d+)? ?m?s|watchdog timer timed out|took \d+(?:\.\d+)? ?ms|reconfiguration (?:took|is slow))`)
)

func (birdLog) Recognize(source string, data []byte) (Observations, []string, bool) {
	var (
		obs   Observations
		lines []string
	)
	for _, t := range logLines(data) {
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
	if m := unknownAddrRE().FindStringSubmatch(t); m != nil {
		if a, ok := parseAddr(m[1]); ok {
			bl.UnknownAddress = a.String()
			bl.Message = m[0]
			return bl, true
		}
	}
	m := birdProtoRE().FindStringSubmatch(t)
	if m == nil {
		if g := birdPrefixRE().FindStringSubmatch(t); g != nil && g[1] != "BGP" {
			m = g
		}
	}
	if m != nil {
		msg := strings.TrimSpace(m[2])
		if interestingBirdMessage(msg) {
			bl.Protocol, bl.Message = m[1], msg
			return bl, true
		}
	}
	if birdNoConfigRE().MatchString(t) {
		bl.Message = birdNoConfigRE().FindString(t)
		bl.NoConfig = true
		return bl, true
	}
	if birdSlowRE().MatchString(t) && looksLikeBirdLine(t) {
		bl.Message = birdSlowRE().FindString(t)
		bl.Slow = true
		return bl, true
	}
	if birdGlobalRE().MatchString(t) && (looksLikeBirdLine(t) || m != nil || strings.HasPrefix(t, "Socket error:")) {
		bl.Message = t
		return bl, true
	}
	return bl, false
}

// interestingBirdMessage keeps errors and state changes, not route traces.
func interestingBirdMessage(msg string) bool {
	for _, p := range []string{"Error:", "Received:", "BGP Error:", "Socket:", "Socket error", "Automatic shutdown:", "Cannot", "State changed", "Kernel",
		"Connected to table", "Starting", "Initializing", "Connection lost", "Hold timer expired", "Error ", "MD5"} {
		if strings.HasPrefix(msg, p) || strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

// looksLikeBirdLine reports whether a line that is not about a protocol
// still comes from BIRD.
func looksLikeBirdLine(t string) bool {
	for _, p := range []string{"bird:", "bird6:", "<ERR>", "<WARN>", "<INFO>", "<RMT>", "<TRACE>", "<DBG>", "<AUTH>", "<BUG>", "<FATAL>", "BGP:", "bird[", "bird6["} {
		if strings.Contains(t, p) {
			return true
		}
	}
	return false
}
