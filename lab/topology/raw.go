package topology

import (
	"fmt"
	"math"
	"strconv"
)

// The raw* types mirror the YAML format one to one: the `yaml` tag of a
// field is its key. They are filled by decode.go from the YAML node tree
// and hold values exactly as written; build.go converts and validates them
// into the exported types. Lists hold values, not pointers: the decoder
// leaves a pointer unset when its target failed to decode, and a
// half-decoded item still lets the other checks run.

type rawTopology struct {
	Name     *string             `yaml:"name"`
	Defaults *rawDefaults        `yaml:"defaults"`
	Nodes    map[string]*rawNode `yaml:"nodes"`
	Peerings []rawPeering        `yaml:"peerings"`
	Expect   []rawExpect         `yaml:"expect"`
	Faults   []rawFault          `yaml:"faults"`
	Links    []rawLink           `yaml:"links"`
	Duration rawDuration         `yaml:"duration"`
	Calico   *rawCalico          `yaml:"calico"`
}

// nodeOrder is what the decoder knows of the nodes mapping besides its
// values: its keys in name order, and the line of each (what the line
// index gives for its path).
type nodeOrder struct {
	names []string
	lines []int
}

type rawDefaults struct {
	ASN    rawNumber  `yaml:"asn"`
	Kind   *string    `yaml:"kind"`
	Timers *rawTimers `yaml:"timers"`
}

type rawNode struct {
	Address   *string     `yaml:"address"`
	ASN       rawNumber   `yaml:"asn"`
	Kind      *string     `yaml:"kind"`
	RouterID  *string     `yaml:"router-id"`
	Role      *string     `yaml:"role"`
	Roles     []string    `yaml:"roles"`
	ClusterID *string     `yaml:"cluster-id"`
	Timers    *rawTimers  `yaml:"timers"`
	Prefixes  []rawPrefix `yaml:"prefixes"`
	Routes    []rawRoutes `yaml:"routes"`
}

// rawRoutes is one bulk route source (`routes:`): a generator or an MRT
// dump. A single mapping is accepted for a one-item list (see decode).
type rawRoutes struct {
	Generate rawNumber `yaml:"generate"`
	From     *string   `yaml:"from"`
	Length   rawNumber `yaml:"length"`
	Variety  rawNumber `yaml:"variety"`
	MRT      *string   `yaml:"mrt"`
	Limit    rawNumber `yaml:"limit"`
	NextHop  *string   `yaml:"next-hop"`
	Order    *string   `yaml:"order"`
}

type rawTimers struct {
	Hold         rawDuration `yaml:"hold"`
	Keepalive    rawDuration `yaml:"keepalive"`
	ConnectRetry rawDuration `yaml:"connect-retry"`
}

// rawPrefix is either a bare prefix string (read as {prefix: s} by the
// decoder) or a mapping.
type rawPrefix struct {
	Prefix      *string   `yaml:"prefix"`
	NextHop     *string   `yaml:"next-hop"`
	Communities []string  `yaml:"communities"`
	Prepend     rawNumber `yaml:"prepend"`
}

type rawPeering struct {
	Mesh           *[]string            `yaml:"mesh"`
	RouteReflector *string              `yaml:"route-reflector"`
	Clients        *[]string            `yaml:"clients"`
	Between        *[]string            `yaml:"between"`
	Password       *string              `yaml:"password"`
	Passive        *string              `yaml:"passive"`
	Multihop       rawNumber            `yaml:"multihop"`
	TTLSecurity    rawNumber            `yaml:"ttl-security"`
	Timers         *rawTimers           `yaml:"timers"`
	PeerASN        map[string]rawNumber `yaml:"peer-asn"`
	Families       *[]string            `yaml:"families"`
}

type rawExpect struct {
	Established    *rawNodeSet `yaml:"established"`
	NotEstablished *rawNodeSet `yaml:"not-established"`
	Route          *string     `yaml:"route"`
	NoRoute        *string     `yaml:"no-route"`
	Readiness      *string     `yaml:"readiness"`
	State          *rawNodeSet `yaml:"state"`
	Diagnosis      *string     `yaml:"diagnosis"`
	At             *string     `yaml:"at"`
	Within         rawDuration `yaml:"within"`
	// After is a duration, a fault's name or NAME.heal; rawDuration keeps
	// it as written (a bare number too).
	After rawDuration `yaml:"after"`
	For   rawDuration `yaml:"for"`
	// Readiness settings.
	Ready   *bool   `yaml:"ready"`
	Message *string `yaml:"message"`
	// State settings: one state or a list.
	Is    *rawWords `yaml:"is"`
	Error *string   `yaml:"error"`
	// Diagnosis settings.
	Cause      *string `yaml:"cause"`
	Node       *string `yaml:"node"`
	Peer       *string `yaml:"peer"`
	Confidence *string `yaml:"confidence"`
}

type rawFault struct {
	// Name labels the fault for expectations' `after:`.
	Name   *string     `yaml:"name"`
	At     rawDuration `yaml:"at"`
	Fault  *string     `yaml:"fault"`
	Node   *string     `yaml:"node"`
	Peer   *string     `yaml:"peer"`
	HealAt rawDuration `yaml:"heal-at"`
	// Params keep the decoded YAML values; which keys and types are
	// allowed depends on the fault, so faultparams.go checks them.
	Params map[string]any `yaml:"params"`
}

type rawLink struct {
	Between *[]string `yaml:"between"`
	// Addresses is keyed by the names of the link's two nodes.
	Addresses map[string]*string `yaml:"addresses"`
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

// fromValue accepts YAML integers and floats; anything else is
// a type error.
func (n *rawNumber) fromValue(v any) error {
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

// fromValue accepts strings and numbers; numbers are kept as
// text so that "hold: 9" is reported as a duration without a unit.
func (d *rawDuration) fromValue(v any) error {
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

// fromValue accepts a string or a list of strings.
func (s *rawNodeSet) fromValue(v any) error {
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

// fromValue accepts a string or a list of strings.
func (w *rawWords) fromValue(v any) error {
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
