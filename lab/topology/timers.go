package topology

import (
	"fmt"
	"time"
)

// maxHold is the largest hold time a BGP OPEN message can carry (16 bits of
// seconds).
const maxHold = 65535 * time.Second

// timerLayer is one `timers:` block as written; nil fields were not set.
type timerLayer struct {
	path                          string
	hold, keepalive, connectRetry *time.Duration
}

// resolvedTimers are timers after layering, remembering the path each value
// came from so that a problem is reported where it was written.
type resolvedTimers struct {
	Timers
	holdPath, keepalivePath, connectRetryPath timerPath
}

// timerPath is the path of a timer: the block's path and the timer's key,
// joined only for a message.
type timerPath struct {
	block, key string
}

func (p timerPath) String() string {
	if p.block == "" && p.key == "" {
		return ""
	}
	return p.block + "." + p.key
}

// apply layers l over r. When l sets hold but not keepalive, keepalive
// becomes hold/3 (rounded down to whole seconds), as in RFC 4271's
// suggestion, rather than keeping a value meant for another hold time.
func (r *resolvedTimers) apply(l timerLayer) {
	if l.hold != nil {
		r.Hold, r.holdPath = *l.hold, timerPath{l.path, "hold"}
		if l.keepalive == nil {
			r.Keepalive, r.keepalivePath = (r.Hold / 3).Truncate(time.Second), r.holdPath
		}
	}
	if l.keepalive != nil {
		r.Keepalive, r.keepalivePath = *l.keepalive, timerPath{l.path, "keepalive"}
	}
	if l.connectRetry != nil {
		r.ConnectRetry, r.connectRetryPath = *l.connectRetry, timerPath{l.path, "connect-retry"}
	}
}

// parseTimers parses a raw timers block found at path. Malformed values are
// reported and left unset. A block parsed without a problem is parsed once
// (the decoder shares a block merged into many nodes).
func (b *builder) parseTimers(raw *rawTimers, path string) timerLayer {
	l := timerLayer{path: path}
	if raw == nil {
		return l
	}
	if parsed, ok := b.parsedTimers[raw]; ok {
		parsed.path = path
		return parsed
	}
	reports := b.c.reports
	// Unset values are left unset without a message: their paths are
	// not spelled.
	if raw.Hold.Set {
		l.hold = b.parseSeconds(raw.Hold, path+".hold")
	}
	if raw.Keepalive.Set {
		l.keepalive = b.parseSeconds(raw.Keepalive, path+".keepalive")
	}
	if raw.ConnectRetry.Set {
		l.connectRetry = b.parseSeconds(raw.ConnectRetry, path+".connect-retry")
	}
	if b.c.reports == reports && b.parsedTimers != nil {
		b.parsedTimers[raw] = l
	}
	return l
}

// parseSeconds parses a BGP timer: a non-negative whole number of seconds
// written as a Go duration ("9s", "1m30s") or the number 0.
func (b *builder) parseSeconds(d rawDuration, path string) *time.Duration {
	v, ok := b.parseDuration(d, path)
	if !ok {
		return nil
	}
	if v%time.Second != 0 {
		b.c.add(path, fmt.Sprintf("%s is not a whole number of seconds (BGP timers count seconds)", d.Text))
		return nil
	}
	return &v
}

// parseDuration parses a non-negative duration; ok is false when d is
// unset or invalid (invalid values are reported).
func (b *builder) parseDuration(d rawDuration, path string) (time.Duration, bool) {
	if !d.Set {
		return 0, false
	}
	v, err := time.ParseDuration(d.Text)
	if err != nil {
		b.c.add(path, fmt.Sprintf("%q is not a duration: write a number with a unit, e.g. \"9s\" or \"1m\"", d.Text))
		return 0, false
	}
	if v < 0 {
		b.c.add(path, fmt.Sprintf("%s is negative", d.Text))
		return 0, false
	}
	return v, true
}

// checkTimers applies the RFC 4271 rules to a resolved set of timers.
func (b *builder) checkTimers(r resolvedTimers) {
	switch {
	case r.Hold != 0 && r.Hold < 3*time.Second:
		b.c.add(r.holdPath.String(), fmt.Sprintf("hold time %s must be 0 or at least 3s (RFC 4271)", r.Hold))
	case r.Hold > maxHold:
		b.c.add(r.holdPath.String(), fmt.Sprintf("hold time %s is longer than 65535s", r.Hold))
	}
	switch {
	case r.Hold == 0 && r.Keepalive != 0:
		b.c.add(r.keepalivePath.String(), fmt.Sprintf("keepalive %s must be 0 when hold time is 0 (keepalives are off)", r.Keepalive))
	case r.Hold != 0 && r.Keepalive >= r.Hold:
		b.c.add(r.keepalivePath.String(), fmt.Sprintf("keepalive %s must be less than hold time %s", r.Keepalive, r.Hold))
	}
	if r.ConnectRetry == 0 {
		b.c.add(r.connectRetryPath.String(), "connect-retry must be at least 1s")
	}
}
