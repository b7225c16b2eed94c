package topology

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Fault parameter keys. Each key has one meaning and one syntax whatever
// the fault that takes it.
const (
	paramDelay    = "delay"     // netem: duration added to each packet
	paramJitter   = "jitter"    // netem: duration the delay varies by
	paramLoss     = "loss"      // netem: percentage of packets dropped
	paramASN      = "asn"       // as-mismatch: the AS the node is told its peer has
	paramRouterID = "router-id" // router-id-conflict: the id the node takes
	paramPassword = "password"  // md5-*: the TCP MD5 password of the node's end
	paramAddress  = "address"   // address faults: an IPv4 address
)

// DefaultBadUpstream is the master address apiserver-proxy-bad-upstream
// writes into nginx.conf when params.address is not set: an address no
// lab node has, so connections to it fail.
const DefaultBadUpstream = "10.255.255.1"

// DefaultFaultPassword is the password md5-mismatch and md5-one-sided give
// the node when params.password is not set.
const DefaultFaultPassword = "peerlab-wrong"

// maxNetemDelay is the longest delay or jitter netem can hold: it counts
// microseconds in 32 bits.
const maxNetemDelay = time.Duration(math.MaxUint32) * time.Microsecond

// faultParams checks raw against the keys rule allows, converts every value
// to its canonical text, applies the fault's own rules and fills in the
// defaults that follow from the topology. The rules that involve other
// fields run only when the rest of the fault is valid (whole). ok is false
// when anything was reported.
func (fb *faultBuilder) faultParams(raw map[string]any, rule faultRule, f *Fault, path string, whole bool) (map[string]string, bool) {
	ppath := path + ".params"
	out := map[string]string{}
	ok := true
	for _, key := range slices.Sorted(maps.Keys(raw)) {
		kp := joinKey(ppath, key)
		if !slices.Contains(rule.params, key) {
			if len(rule.params) == 0 {
				fb.c.add(kp, fmt.Sprintf("%s takes no params", f.Name))
			} else {
				fb.c.add(kp, fmt.Sprintf("%s takes %s", f.Name, strings.Join(rule.params, ", ")))
			}
			ok = false
			continue
		}
		if raw[key] == nil {
			continue // `key: ~` counts as absent
		}
		s, valid := fb.paramValue(key, raw[key], kp)
		if !valid {
			ok = false
			continue
		}
		out[key] = s
	}
	if !ok || !whole {
		return nil, false
	}
	switch f.Name {
	case "netem":
		ok = fb.netemParams(out, ppath)
	case "as-mismatch":
		ok = fb.asMismatchParams(out, f, ppath)
	case "router-id-conflict":
		ok = fb.routerIDParams(out, f, path)
	case "md5-mismatch", "md5-one-sided":
		if _, set := out[paramPassword]; !set {
			out[paramPassword] = DefaultFaultPassword
		}
	case "apiserver-proxy-bad-upstream":
		if _, set := out[paramAddress]; !set {
			out[paramAddress] = DefaultBadUpstream
		}
	}
	if !ok {
		return nil, false
	}
	if len(out) == 0 {
		return nil, true
	}
	return out, true
}

// paramValue converts one parameter value to its canonical text.
func (fb *faultBuilder) paramValue(key string, v any, path string) (string, bool) {
	switch key {
	case paramDelay, paramJitter:
		d, ok := fb.paramDuration(v, path)
		return d.String(), ok
	case paramLoss:
		return fb.paramPercent(v, path)
	case paramASN:
		var n rawNumber
		if err := n.fromValue(v); err != nil {
			fb.c.add(path, err.Error())
			return "", false
		}
		asn := fb.checkASN(n, path)
		return strconv.FormatUint(uint64(asn), 10), asn != 0
	}
	s, isString := v.(string)
	if !isString {
		fb.c.add(path, "expected a string, got "+describe(v))
		return "", false
	}
	switch key {
	case paramRouterID:
		a := fb.parseIPv4(s, path)
		return a.String(), a.IsValid()
	case paramAddress:
		a := fb.parseAddr(s, path)
		if a.IsValid() && !a.Is4() {
			fb.c.add(path, fmt.Sprintf("%s is not an IPv4 address", s))
			return "", false
		}
		return a.String(), a.IsValid()
	case paramPassword:
		if s == "" {
			fb.c.add(path, "password must not be empty (leave it out for the default)")
			return "", false
		}
		return s, true
	}
	fb.c.add(path, "internal error: no syntax for fault parameter "+key)
	return "", false
}

// paramDuration parses a netem duration: non-negative, at most what netem
// can hold.
func (fb *faultBuilder) paramDuration(v any, path string) (time.Duration, bool) {
	var raw rawDuration
	if err := raw.fromValue(v); err != nil {
		fb.c.add(path, err.Error())
		return 0, false
	}
	d, ok := fb.parseDuration(raw, path)
	if ok && d > maxNetemDelay {
		fb.c.add(path, fmt.Sprintf("%s is longer than netem allows (%s)", raw.Text, maxNetemDelay))
		return 0, false
	}
	return d, ok
}

// paramPercent parses a loss percentage: a number 0..100, or a string such
// as "10%".
func (fb *faultBuilder) paramPercent(v any, path string) (string, bool) {
	var (
		x    float64
		text string
	)
	switch t := v.(type) {
	case int:
		x, text = float64(t), strconv.Itoa(t)
	case int64:
		x, text = float64(t), strconv.FormatInt(t, 10)
	case uint64:
		x, text = float64(t), strconv.FormatUint(t, 10)
	case float64:
		x, text = t, strconv.FormatFloat(t, 'g', -1, 64)
	case string:
		num, hasPct := strings.CutSuffix(strings.TrimSpace(t), "%")
		f, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
		if !hasPct || err != nil {
			fb.c.add(path, fmt.Sprintf("%q is not a percentage: write a number 0..100, e.g. 10 or \"10%%\"", t))
			return "", false
		}
		x, text = f, t
	default:
		fb.c.add(path, "expected a percentage such as 10, got "+describe(v))
		return "", false
	}
	if math.IsNaN(x) || x < 0 || x > 100 {
		fb.c.add(path, fmt.Sprintf("%s is not a percentage (0..100)", text))
		return "", false
	}
	return strconv.FormatFloat(x, 'g', -1, 64), true
}

// netemParams applies netem's rules: something to do, and a jitter that
// varies an existing delay without exceeding it.
func (fb *faultBuilder) netemParams(p map[string]string, ppath string) bool {
	if len(p) == 0 {
		fb.c.add(ppath, "netem needs at least one of delay, jitter, loss")
		return false
	}
	delay, hasDelay := p[paramDelay]
	d, _ := time.ParseDuration(delay)
	if jitter, ok := p[paramJitter]; ok {
		j, _ := time.ParseDuration(jitter)
		switch {
		case !hasDelay && j > 0:
			fb.c.add(joinKey(ppath, paramJitter), "jitter varies the delay: set a delay too")
			return false
		case j > d:
			fb.c.add(joinKey(ppath, paramJitter), fmt.Sprintf("jitter %s is more than delay %s", j, d))
			return false
		}
	}
	if loss, _ := strconv.ParseFloat(p[paramLoss], 64); d == 0 && loss == 0 {
		fb.c.add(ppath, "netem with no delay and no loss changes nothing")
		return false
	}
	return true
}

// asMismatchParams checks and defaults the AS as-mismatch tells the node:
// with a peer, it must differ from the peer's real AS and defaults to that
// AS plus one. Without a peer the default is left to the harness, per
// session.
func (fb *faultBuilder) asMismatchParams(p map[string]string, f *Fault, ppath string) bool {
	if f.Peer == "" {
		return true
	}
	peerAS := fb.nodes[f.Peer].ASN
	if peerAS == 0 {
		return false // reported with the node
	}
	if s, set := p[paramASN]; set {
		if s == strconv.FormatUint(uint64(peerAS), 10) {
			fb.c.add(joinKey(ppath, paramASN), fmt.Sprintf("%s is %s's real AS: the fault would change nothing", s, f.Peer))
			return false
		}
		return true
	}
	wrong := uint64(peerAS) + 1
	if peerAS == math.MaxUint32 {
		wrong = uint64(peerAS) - 1
	}
	p[paramASN] = strconv.FormatUint(wrong, 10)
	return true
}

// routerIDParams checks and defaults the router id router-id-conflict gives
// the node: the peer's when not set, and never the node's own.
func (fb *faultBuilder) routerIDParams(p map[string]string, f *Fault, path string) bool {
	own := fb.nodes[f.Node].RouterID
	s, set := p[paramRouterID]
	switch {
	case !set && f.Peer == "":
		fb.c.add(path, "router-id-conflict needs a peer (whose router id the node takes) or params.router-id")
		return false
	case !set:
		peerID := fb.nodes[f.Peer].RouterID
		if !peerID.IsValid() {
			return false // reported with the node
		}
		s = peerID.String()
		p[paramRouterID] = s
	}
	if own.IsValid() && s == own.String() {
		where := joinKey(path+".params", paramRouterID)
		if !set {
			where = path + ".peer"
		}
		fb.c.add(where, fmt.Sprintf("%s is already %s's router id: the fault would change nothing", s, f.Node))
		return false
	}
	return true
}
