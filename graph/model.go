package graph

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/peerlab/peerlab/lab/topology"
)

// Node is one node of the picture.
type Node struct {
	// Name is the node's name in the topology.
	Name string
	// Kind is gobgp, bird or bird2.
	Kind string
	// Roles lists the BGP role (route-reflector) and the cluster roles.
	Roles []string
	// ASN and Address are shown under the name.
	ASN     uint32
	Address string
}

// Edge is one BGP session.
type Edge struct {
	// A and B are node names, in the topology's order.
	A, B string
	// Kind is mesh, route-reflector or between.
	Kind string
	// State is the session's state for a running lab ("" when unknown):
	// Established when both ends say so, else the first end's state that is
	// not Established.
	State string
	// LastError joins both ends' last errors ("" when none).
	LastError string
	// DownFor is how long the session has not been Established (since it
	// last left Established, or since the lab started); 0 when unknown.
	DownFor time.Duration
}

// StuckAfter is how long a session may stay in a connecting state (Active,
// Connect, OpenSent …) before the picture draws it as down: BGP retries
// every few seconds, so a session not up after this long is not coming up
// on its own.
const StuckAfter = 30 * time.Second

// Class buckets the edge into up, connecting, down or unknown: a session
// still "connecting" after StuckAfter is down.
func (e Edge) Class() string {
	c := stateClass(e.State)
	if c == "connecting" && e.DownFor >= StuckAfter {
		return "down"
	}
	return c
}

// StateLabel is the state as drawn: the state, with how long it has not
// been Established when that is StuckAfter or more.
func (e Edge) StateLabel() string {
	if e.State == "" || e.State == "Established" || e.DownFor < StuckAfter {
		return e.State
	}
	return e.State + ", down " + e.DownFor.Truncate(time.Second).String()
}

// Graph is a topology ready to draw.
type Graph struct {
	// Name is the lab's name.
	Name  string
	Nodes []Node
	Edges []Edge
}

// EndState is one end's view of a session of a running lab (a row of the
// lab's status report).
type EndState struct {
	Local, Remote    string
	State, LastError string
	// DownFor is how long this end has not been Established (0: unknown
	// or Established).
	DownFor time.Duration
}

// FromTopology builds the picture of t: its nodes in name order and one edge
// per session in file order.
func FromTopology(t *topology.Topology) *Graph {
	g := &Graph{Name: t.Name}
	for _, n := range t.Nodes {
		node := Node{Name: n.Name, Kind: n.Kind, ASN: n.ASN, Address: n.Address.String()}
		if n.Role != topology.RoleNone {
			node.Roles = append(node.Roles, string(n.Role))
		}
		for _, r := range n.Roles {
			node.Roles = append(node.Roles, string(r))
		}
		g.Nodes = append(g.Nodes, node)
	}
	for _, s := range t.Sessions {
		g.Edges = append(g.Edges, Edge{A: s.A, B: s.B, Kind: string(s.Kind)})
	}
	return g
}

// ApplyStates sets each edge's state and last error from the ends' views.
// Edges no end reports stay unknown.
func (g *Graph) ApplyStates(ends []EndState) {
	for i := range g.Edges {
		e := &g.Edges[i]
		var states, errs []string
		for _, s := range ends {
			if (s.Local == e.A && s.Remote == e.B) || (s.Local == e.B && s.Remote == e.A) {
				states = append(states, s.State)
				if s.State != "Established" {
					e.DownFor = max(e.DownFor, s.DownFor)
				}
				if s.LastError != "" && s.LastError != "-" {
					errs = append(errs, s.Local+": "+s.LastError)
				}
			}
		}
		if len(states) == 0 {
			continue
		}
		e.State = "Established"
		for _, st := range states {
			if st != "Established" {
				e.State = st
				break
			}
		}
		sort.Strings(errs)
		e.LastError = strings.Join(errs, "; ")
	}
}

// label is the text under a node's name: kind, AS, address, roles.
func (n Node) label() string {
	s := n.Kind + " AS" + strconv.FormatUint(uint64(n.ASN), 10) + " " + n.Address
	if len(n.Roles) > 0 {
		s += " [" + strings.Join(n.Roles, ", ") + "]"
	}
	return s
}

// stateClass buckets a session state into up, connecting, down or unknown.
func stateClass(state string) string {
	switch state {
	case "":
		return "unknown"
	case "Established":
		return "up"
	case "Connect", "Active", "OpenSent", "OpenConfirm", "Passive", "start":
		return "connecting"
	default:
		return "down"
	}
}

// stateColor is the colour of an edge in a state class.
func stateColor(class string) string {
	switch class {
	case "up":
		return "#2e7d32"
	case "connecting":
		return "#ef6c00"
	case "down":
		return "#c62828"
	default:
		return "#607d8b"
	}
}

// kindColor is the fill colour of a node of a kind.
func kindColor(kind string) string {
	switch kind {
	case topology.KindBIRD:
		return "#bbdefb"
	case topology.KindBIRD2:
		return "#c5cae9"
	case topology.KindInjector:
		return "#ffe0b2"
	default:
		return "#dcedc8"
	}
}

// hasRole tells whether n has role r.
func (n Node) hasRole(r string) bool {
	for _, x := range n.Roles {
		if x == r {
			return true
		}
	}
	return false
}
