package diagnose

import (
	"strings"

	"github.com/peerlab/peerlab/internal/lazy"
)

// kernelMD5 recognises kernel messages about TCP MD5 signatures (dmesg,
// journalctl -k):
//
//	[ 1234.5678] TCP: MD5 Hash failed for (10.0.0.2, 179)->(10.0.0.1, 40312)
//	TCP: MD5 Hash NOT expected for (10.0.0.2, 40312)->(10.0.0.1, 179)
//	TCP: MD5 Hash expected but not found for (10.0.0.2, 40312)->(10.0.0.1, 179)
//	TCP: MD5 Hash mismatch for (10.0.0.2, 40312)->(10.0.0.1, 179)
type kernelMD5 struct{}

func (kernelMD5) Kind() string { return "kernel" }
func (kernelMD5) Whole() bool  { return false }

var md5AddrRE = lazy.Regexp(`\(([0-9A-Fa-f.:]+), ?\d+\)\s*->\s*\(([0-9A-Fa-f.:]+), ?\d+\)`)

func (kernelMD5) Recognize(source string, data []byte) (Observations, []string, bool) {
	var (
		obs   Observations
		lines []string
	)
	for _, l := range splitLines(data) {
		t := strings.TrimSpace(l)
		if len(t) > 4096 || !strings.Contains(t, "MD5 Hash") {
			continue
		}
		k := KernelMD5{Line: Line{source, t}}
		switch {
		case containsFold(t, "MD5 Hash NOT expected"):
			k.Kind = "not-expected"
		case containsFold(t, "MD5 Hash expected but not found"):
			k.Kind = "missing"
		case containsFold(t, "MD5 Hash mismatch"):
			k.Kind = "mismatch"
		case containsFold(t, "MD5 Hash failed"):
			k.Kind = "failed"
		default:
			continue
		}
		if m := md5AddrRE().FindStringSubmatch(t); m != nil {
			k.Src, k.Dst = m[1], m[2]
		}
		obs.Kernel = append(obs.Kernel, k)
		lines = append(lines, t)
	}
	return obs, lines, len(lines) > 0
}
