package topology

import (
	"fmt"
	"math"
	"strconv"
)

// The raw* types mirror the YAML format one to one. They are filled by
// mapstructure from viper's settings and hold values exactly as written;
// build.go converts and validates them into the exported types. Lists hold
// values, not pointers: mapstructure drops a pointer whose target failed to
// decode, and a half-decoded item still lets the other checks run.

type rawTopology struct {
	Name     *string             `mapstructure:"name"`
	Defaults *rawDefaults        `mapstructure:"defaults"`
	Nodes    map[string]*rawNode `mapstructure:"nodes"`
	Peerings []rawPeering        `mapstructure:"peerings"`
	Expect   []rawExpect         `mapstructure:"expect"`
	Faults   []rawFault          `mapstructure:"faults"`
	Links    []rawLink           `mapstructure:"links"`
	Duration rawDuration         `mapstructure:"duration"`
	Calico   *rawCalico          `mapstructure:"calico"`
}

type rawDefaults struct {
	ASN    rawNumber  `mapstructure:"asn"`
	Kind   *string    `mapstructure:"kind"`
	Timers *rawTimers `mapstructure:"timers"`
}

type rawNode struct {
	Address   *string     `mapstructure:"address"`
	ASN       rawNumber   `mapstructure:"asn"`
	Kind      *string     `mapstructure:"kind"`
	RouterID  *string     `mapstructure:"router-id"`
	Role      *string     `mapstructure:"role"`
	Roles     []string    `mapstructure:"roles"`
	ClusterID *string     `mapstructure:"cluster-id"`
	Timers    *rawTimers  `mapstructure:"timers"`
	Prefixes  []rawPrefix `mapstructure:"prefixes"`
	Routes    []rawRoutes `mapstructure:"routes"`
}

// rawRoutes is one bulk route source (`routes:`): a generator or an MRT
// dump. A single mapping is accepted for a one-item list (routesHook).
type rawRoutes struct {
	Generate rawNumber `mapstructure:"generate"`
	From     *string   `mapstructure:"from"`
	Length   rawNumber `mapstructure:"length"`
	Variety  rawNumber `mapstructure:"variety"`
	MRT      *string   `mapstructure:"mrt"`
	Limit    rawNumber `mapstructure:"limit"`
	NextHop  *string   `mapstructure:"next-hop"`
	Order    *string   `mapstructure:"order"`
}

type rawTimers struct {
	Hold         rawDuration `mapstructure:"hold"`
	Keepalive    rawDuration `mapstructure:"keepalive"`
	ConnectRetry rawDuration `mapstructure:"connect-retry"`
}

// rawPrefix is either a bare prefix string (turned into {prefix: s} by
// prefixHook) or a mapping.
type rawPrefix struct {
	Prefix      *string   `mapstructure:"prefix"`
	NextHop     *string   `mapstructure:"next-hop"`
	Communities []string  `mapstructure:"communities"`
	Prepend     rawNumber `mapstructure:"prepend"`
}

type rawPeering struct {
	Mesh           *[]string            `mapstructure:"mesh"`
	RouteReflector *string              `mapstructure:"route-reflector"`
	Clients        *[]string            `mapstructure:"clients"`
	Between        *[]string            `mapstructure:"between"`
	Password       *string              `mapstructure:"password"`
	Passive        *string              `mapstructure:"passive"`
	Multihop       rawNumber            `mapstructure:"multihop"`
	TTLSecurity    rawNumber            `mapstructure:"ttl-security"`
	Timers         *rawTimers           `mapstructure:"timers"`
	PeerASN        map[string]rawNumber `mapstructure:"peer-asn"`
	Families       *[]string            `mapstructure:"families"`
}

type rawExpect struct {
	Established    *rawNodeSet `mapstructure:"established"`
	NotEstablished *rawNodeSet `mapstructure:"not-established"`
	Route          *string     `mapstructure:"route"`
	NoRoute        *string     `mapstructure:"no-route"`
	Readiness      *string     `mapstructure:"readiness"`
	State          *rawNodeSet `mapstructure:"state"`
	Diagnosis      *string     `mapstructure:"diagnosis"`
	At             *string     `mapstructure:"at"`
	Within         rawDuration `mapstructure:"within"`
	// After is a duration, a fault's name or NAME.heal; rawDuration keeps
	// it as written (a bare number too).
	After rawDuration `mapstructure:"after"`
	For   rawDuration `mapstructure:"for"`
	// Readiness settings.
	Ready   *bool   `mapstructure:"ready"`
	Message *string `mapstructure:"message"`
	// State settings: one state or a list.
	Is    *rawWords `mapstructure:"is"`
	Error *string   `mapstructure:"error"`
	// Diagnosis settings.
	Cause      *string `mapstructure:"cause"`
	Node       *string `mapstructure:"node"`
	Peer       *string `mapstructure:"peer"`
	Confidence *string `mapstructure:"confidence"`
}

type rawFault struct {
	// Name labels the fault for expectations' `after:`.
	Name   *string     `mapstructure:"name"`
	At     rawDuration `mapstructure:"at"`
	Fault  *string     `mapstructure:"fault"`
	Node   *string     `mapstructure:"node"`
	Peer   *string     `mapstructure:"peer"`
	HealAt rawDuration `mapstructure:"heal-at"`
	// Params keep the decoded YAML values; which keys and types are
	// allowed depends on the fault, so faultparams.go checks them.
	Params map[string]any `mapstructure:"params"`
}

type rawLink struct {
	Between *[]string `mapstructure:"between"`
	// Addresses is keyed by the names of the link's two nodes.
	Addresses map[string]*string `mapstructure:"addresses"`
}

// rawNumber is an integer field kept as written so that range errors can
// quote the user's text (4294967296, 1e+23, -1).
type rawNumber struct {
	Set   bool
	Text  string
	Value int64
	// Whole is false when the value is not an integer that fits in int64.
	Whole bool
}

// UnmarshalMapstructure accepts YAML integers and floats; anything else is
// a type error.
func (n *rawNumber) UnmarshalMapstructure(v any) error {
	switch x := v.(type) {
	case int:
		n.Text, n.Value, n.Whole = strconv.Itoa(x), int64(x), true
	case int64:
		n.Text, n.Value, n.Whole = strconv.FormatInt(x, 10), x, true
	case uint64:
		n.Text = strconv.FormatUint(x, 10)
		n.Value, n.Whole = int64(x), x <= math.MaxInt64
	case float64:
		n.Text = strconv.FormatFloat(x, 'g', -1, 64)
		n.Whole = x == math.Trunc(x) && x >= math.MinInt64 && x < math.MaxInt64
		if n.Whole {
			n.Value = int64(x)
		}
	default:
		return fmt.Errorf("expected a number, got %s", describe(v))
	}
	n.Set = true
	return nil
}

// in reports whether n holds an integer in lo..hi.
func (n rawNumber) in(lo, hi int64) bool {
	return n.Whole && n.Value >= lo && n.Value <= hi
}

// rawDuration is a duration as written: "9s", "1m30s", or the number 0.
type rawDuration struct {
	Set  bool
	Text string
}

// UnmarshalMapstructure accepts strings and numbers; numbers are kept as
// text so that "hold: 9" is reported as a duration without a unit.
func (d *rawDuration) UnmarshalMapstructure(v any) error {
	switch x := v.(type) {
	case string:
		d.Text = x
	case int, int64, uint64, float64:
		d.Text = fmt.Sprint(x)
	default:
		return fmt.Errorf("expected a duration such as \"9s\", got %s", describe(v))
	}
	d.Set = true
	return nil
}

// rawNodeSet is the value of established / not-established: the word
// `all` or a list of node names.
type rawNodeSet struct {
	Word  string
	Names []string
	// IsList tells a list from a word (an empty list is still a list).
	IsList bool
}

// UnmarshalMapstructure accepts a string or a list of strings.
func (s *rawNodeSet) UnmarshalMapstructure(v any) error {
	switch x := v.(type) {
	case string:
		s.Word = x
	case []any:
		s.IsList = true
		for i, item := range x {
			name, ok := item.(string)
			if !ok {
				return &itemError{index: i, msg: "expected a node name, got " + describe(item)}
			}
			s.Names = append(s.Names, name)
		}
	default:
		return fmt.Errorf("expected `all` or a list of two node names, got %s", describe(v))
	}
	return nil
}

// rawWords is one word or a list of words (`is: Active` or
// `is: [Active, Passive]`).
type rawWords struct {
	Words []string
}

// UnmarshalMapstructure accepts a string or a list of strings.
func (w *rawWords) UnmarshalMapstructure(v any) error {
	switch x := v.(type) {
	case string:
		w.Words = []string{x}
	case []any:
		for i, item := range x {
			s, ok := item.(string)
			if !ok {
				return &itemError{index: i, msg: "expected a word, got " + describe(item)}
			}
			w.Words = append(w.Words, s)
		}
	default:
		return fmt.Errorf("expected a word or a list of words, got %s", describe(v))
	}
	return nil
}

// itemError is a decoding error about one item of a list, reported at the
// item's own path.
type itemError struct {
	index int
	msg   string
}

func (e *itemError) Error() string { return fmt.Sprintf("item %d: %s", e.index, e.msg) }

// describe names a decoded YAML value for error messages.
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("string %q", x)
	case bool:
		return fmt.Sprintf("boolean %t", x)
	case int, int64, uint64:
		return fmt.Sprintf("number %d", x)
	case float64:
		return "number " + strconv.FormatFloat(x, 'g', -1, 64)
	case []any:
		return "a list"
	case map[string]any, map[any]any:
		return "a mapping"
	default:
		return fmt.Sprintf("%T", v)
	}
}
