package diagnose

import (
	"net/netip"
	"strings"

	"github.com/peerlab/peerlab/internal/lazy"
)

// calicoAutodetect recognises the lines in which calico-node's startup
// (startup.go, autodetection_methods.go, the monitor-addresses loop; any
// Calico version, with or without `kubectl logs --prefix`) says which
// address it gave the node, and its address conflict warnings:
//
//	2021-01-04 18:20:34.776 [INFO][55] monitor-addresses/startup.go 756: Using autodetected IPv4 address on interface br-c6e04b432ed1: 173.17.0.1/16
//	[INFO] Using autodetected IPv4 address 192.168.10.107/24 on matching interface ens33
//	... Using autodetected IPv4 address 10.0.0.5/24, detected by connecting to 8.8.8.8
//	2019-03-03 05:40:10.473 [INFO][9] startup.go 476: Using IPv4 address from environment: IP=10.48.32.5
//	2019-03-03 05:40:10.476 [INFO][9] startup.go 509: IPv4 address 10.48.32.5 discovered on interface br0
//	2023-02-09 05:44:36.099 [WARNING][9] startup/startup.go 990: Calico node 'master01' is already using the IPv4 address 10.32.0.1.
//	No IP provided. Using detected IP: 10.22.0.1          (calicoctl node, Calico 0.x)
type calicoAutodetect struct{}

func (calicoAutodetect) Kind() string { return "calico-autodetect" }
func (calicoAutodetect) Whole() bool  { return false }

var (
	adFirstRE    = lazy.Regexp(`Using autodetected IPv[46] address on interface (\S+): ([0-9A-Fa-f.:]+(?:/\d+)?)(.*)`)
	adMatchRE    = lazy.Regexp(`Using autodetected IPv[46] address ([0-9A-Fa-f.:]+(?:/\d+)?) on matching interface (\S+)`)
	adReachRE    = lazy.Regexp(`Using autodetected IPv[46] address ([0-9A-Fa-f.:]+(?:/\d+)?), detected by connecting to`)
	adEnvRE      = lazy.Regexp(`Using IPv[46] address from environment: IP6?=([0-9A-Fa-f.:]+(?:/\d+)?)`)
	adFoundRE    = lazy.Regexp(`IPv[46] address ([0-9A-Fa-f.:]+) discovered on interface (\S+)`)
	adNotHostRE  = lazy.Regexp(`Unable to confirm IPv[46] address ([0-9A-Fa-f.:]+) is assigned to this host`)
	adCalicoctl  = lazy.Regexp(`No IP provided\. Using detected IP: ([0-9A-Fa-f.:]+)`)
	adKeepRE     = lazy.Regexp(`Autodetection of IPv[46] address failed, keeping existing value: ([0-9A-Fa-f.:]+(?:/\d+)?)`)
	adConflictRE = lazy.Regexp(`Calico node '([^']+)' is already using the IPv[46] address ([0-9A-Fa-f.:]+[0-9A-Fa-f])`)
	adChangedRE  = lazy.Regexp(`Node IPv[46] changed, will check for conflicts`)
)

func (calicoAutodetect) Recognize(source string, data []byte) (Observations, []string, bool) {
	var (
		obs   Observations
		lines []string
	)
	for _, t := range logLines(data) {
		hit := true
		if m := adConflictRE().FindStringSubmatch(t); m != nil {
			if a, ok := parseAddr(m[2]); ok {
				obs.AddrConflicts = append(obs.AddrConflicts, AddrConflict{Other: m[1], Addr: a.String(), Line: Line{source, t}})
			}
		} else if na, ok := parseNodeAddr(t); ok {
			na.Line = Line{source, t}
			obs.NodeAddrs = append(obs.NodeAddrs, na)
		} else if !adChangedRE().MatchString(t) {
			hit = false
		}
		if hit {
			lines = append(lines, t)
		}
	}
	return obs, lines, len(lines) > 0
}

// parseNodeAddr reads one address choice of calico-node's startup.
func parseNodeAddr(t string) (NodeAddr, bool) {
	var na NodeAddr
	var addr string
	if m := adFirstRE().FindStringSubmatch(t); m != nil {
		na.Interface, addr, na.How = m[1], m[2], "first-found"
		if strings.Contains(m[3], "skipping") {
			na.How = "skip-interface"
		}
	} else if m := adMatchRE().FindStringSubmatch(t); m != nil {
		addr, na.Interface, na.How = m[1], m[2], "interface"
	} else if m := adReachRE().FindStringSubmatch(t); m != nil {
		addr, na.How = m[1], "can-reach"
	} else if m := adEnvRE().FindStringSubmatch(t); m != nil {
		addr, na.How = m[1], "environment"
	} else if m := adFoundRE().FindStringSubmatch(t); m != nil {
		addr, na.Interface, na.How = m[1], m[2], "environment"
	} else if m := adNotHostRE().FindStringSubmatch(t); m != nil {
		addr, na.How, na.NotOnHost = m[1], "environment", true
	} else if m := adKeepRE().FindStringSubmatch(t); m != nil {
		addr, na.How = m[1], "environment"
	} else if m := adCalicoctl().FindStringSubmatch(t); m != nil {
		addr, na.How = m[1], "calicoctl"
	} else {
		return na, false
	}
	na.Interface = strings.TrimRight(na.Interface, ":,.")
	addr = strings.TrimRight(addr, ".,")
	if p, err := netip.ParsePrefix(addr); err == nil {
		na.Prefix = p
		na.Addr = p.Addr().Unmap().String()
		return na, true
	}
	a, ok := parseAddr(addr)
	if !ok {
		return na, false
	}
	na.Addr = a.String()
	return na, true
}
