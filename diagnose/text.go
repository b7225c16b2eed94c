package diagnose

import (
	"net/netip"
	"strings"
)

// maxInput bounds how much of one input a recognizer reads.
const maxInput = 16 << 20

// splitLines splits data into lines without trailing "\r" and space.
func splitLines(data []byte) []string {
	if len(data) > maxInput {
		data = data[:maxInput]
	}
	raw := strings.Split(string(data), "\n")
	for i, l := range raw {
		raw[i] = strings.TrimRight(l, "\r \t")
	}
	return raw
}

// hostOf returns the host of "host:port" or "[v6]:port", or s itself.
func hostOf(s string) string {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().String()
	}
	if i := strings.LastIndexByte(s, ':'); i > 0 && !strings.Contains(s[:i], ":") {
		return s[:i]
	}
	return strings.Trim(s, "[]")
}

// isLoopback reports whether s is a loopback IP address.
func isLoopback(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && a.IsLoopback()
}

// parseAddr parses an IP address, unmapping IPv4-in-IPv6.
func parseAddr(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(strings.Trim(s, "[]"))
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// peerFromProtocolName returns the address Calico encodes in a protocol
// name: "Mesh_10_0_0_2" → "10.0.0.2", "Node_10_0_0_9_port_1179" → "10.0.0.9",
// "Mesh_fd00__2" → "fd00::2". It returns "" when the name holds none.
func peerFromProtocolName(name string) string {
	_, rest, ok := strings.Cut(name, "_")
	if !ok {
		return ""
	}
	if i := strings.Index(rest, "_port_"); i >= 0 {
		rest = rest[:i]
	}
	if a, ok := parseAddr(strings.ReplaceAll(rest, "_", ".")); ok && a.Is4() {
		return a.String()
	}
	if a, ok := parseAddr(strings.ReplaceAll(rest, "_", ":")); ok {
		return a.String()
	}
	return ""
}

// calicoBGPProtocol reports whether a protocol name is one calico-node's
// readiness check counts: Mesh_*, Node_* or Global_*.
func calicoBGPProtocol(name string) bool {
	return strings.HasPrefix(name, "Mesh_") || strings.HasPrefix(name, "Node_") || strings.HasPrefix(name, "Global_")
}

// containsFold reports whether s contains sub, ignoring case.
func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

// maxLogLine is the longest line a line recogniser reads: no log line is
// longer, and regular expressions over a pasted blob would only cost.
const maxLogLine = 8192

// logLines returns the lines of data a line recogniser reads: trimmed of
// surrounding space, without empty ones and ones over maxLogLine.
func logLines(data []byte) []string {
	var out []string
	for _, l := range splitLines(data) {
		if t := strings.TrimSpace(l); t != "" && len(t) <= maxLogLine {
			out = append(out, t)
		}
	}
	return out
}
