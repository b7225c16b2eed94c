package diagnose

import (
	"slices"
	"sort"
	"strings"
)

// Cluster is the evidence about a set of nodes, whatever source it came
// from. Cluster-wide facts (kubectl get nodes, Calico manifests) may sit on
// any node; the accessors gather them.
type Cluster struct {
	// Nodes in the order they were first seen.
	Nodes []*Node
	// Evidence is every recognised input.
	Evidence []Evidence
	// Unknowns collects inputs that were not recognised or not readable.
	Unknowns []string

	// byName finds a node of Nodes by name; idx holds the lookups of
	// cluster_index.go, built for idxNodes nodes.
	byName   map[string]*Node
	idx      *clusterIndex
	idxNodes int
}

// Node is the evidence about one node.
type Node struct {
	// Name is the node's name (an artifacts sub-folder, a lab node); empty
	// when the evidence did not say whose it is.
	Name string
	// Obs is what the evidence says.
	Obs Observations

	// sessions and events cache Sessions() and errorEvents() while a
	// diagnosis runs (cacheOn), when Obs cannot change.
	sessions []Session
	events   []errorEvent
	cacheOn  bool
}

// NodeNamed returns the node called name, adding it when new.
func (c *Cluster) NodeNamed(name string) *Node {
	if c.byName == nil || len(c.byName) != len(c.Nodes) {
		// First call, or Nodes was changed directly: rebuild the map.
		c.byName = make(map[string]*Node, len(c.Nodes))
		for _, n := range c.Nodes {
			if _, dup := c.byName[n.Name]; !dup {
				c.byName[n.Name] = n
			}
		}
	}
	if n, ok := c.byName[name]; ok {
		return n
	}
	n := &Node{Name: name}
	c.Nodes = append(c.Nodes, n)
	c.byName[name] = n
	c.dropIndex()
	return n
}

// Add records a recognition of input source for the node called node.
func (c *Cluster) Add(node, source string, rec Recognition) {
	if len(rec.Evidence) == 0 {
		c.Unknowns = append(c.Unknowns, source+": not recognised as any known format")
		return
	}
	n := c.NodeNamed(node)
	n.Obs.merge(rec.Obs)
	n.sessions, n.events = nil, nil
	c.dropIndex()
	for _, e := range rec.Evidence {
		e.Node = node
		c.Evidence = append(c.Evidence, e)
	}
}

// KubeNodes returns every `kubectl get nodes` row, deduplicated by name.
func (c *Cluster) KubeNodes() []KubeNode {
	return slices.Clone(c.index().kubeRows)
}

// Manifests returns every Calico manifest seen.
func (c *Cluster) Manifests() []CalicoManifest {
	return slices.Clone(c.index().manifests)
}

// kubeNode returns the kubectl row of the node, by name or address.
func (c *Cluster) kubeNode(n *Node) (KubeNode, bool) {
	k, ok := c.index().kube[n]
	return k, ok
}

// NodeByAddr returns the node that owns address a (its BGP address, an
// interface address or its kubectl INTERNAL-IP), or nil. When several
// nodes claim a, the first in Nodes wins.
func (c *Cluster) NodeByAddr(a string) *Node {
	if a == "" {
		return nil
	}
	return c.index().byAddr[a]
}

// Addrs returns the addresses of n: its own (BGP, interfaces) and its
// kubectl INTERNAL-IP.
func (c *Cluster) Addrs(n *Node) []string {
	if addrs, ok := c.index().addrs[n]; ok {
		return slices.Clone(addrs)
	}
	// n is not (or no longer) one of c.Nodes.
	out := n.ownAddrs()
	if k, ok := c.kubeNode(n); ok {
		out = appendUnique(out, k.InternalIP)
	}
	return out
}

// Label names n for people: its name, else its BGP address, else "node".
func (c *Cluster) Label(n *Node) string {
	if n == nil {
		return ""
	}
	if n.Name != "" {
		return n.Name
	}
	if a := n.BGPAddr(); a != "" {
		return a
	}
	if k, ok := c.kubeNode(n); ok {
		return k.Name
	}
	return ""
}

// BGPAddr is the address BIRD uses on n: bird.cfg's source address or
// router id, or the source address `show protocols all` printed.
func (n *Node) BGPAddr() string {
	for _, cfg := range n.Obs.BirdConfigs {
		for _, p := range cfg.Peers {
			if p.Source != "" {
				return p.Source
			}
		}
		if cfg.ListenAddress != "" {
			return cfg.ListenAddress
		}
		if cfg.RouterID != "" {
			return cfg.RouterID
		}
	}
	for _, p := range n.Obs.Protocols {
		if p.SourceAddress != "" {
			return p.SourceAddress
		}
	}
	return ""
}

// ownAddrs lists the addresses the node's own evidence gives it.
func (n *Node) ownAddrs() []string {
	var out []string
	if a := n.BGPAddr(); a != "" {
		out = append(out, a)
	}
	for _, cfg := range n.Obs.BirdConfigs {
		out = appendUnique(out, cfg.RouterID)
	}
	for _, it := range n.Obs.Interfaces {
		for _, p := range it.Prefixes {
			if !p.Addr().IsLoopback() {
				out = appendUnique(out, p.Addr().String())
			}
		}
	}
	return out
}

// HasAddr reports whether an interface of n carries a (only meaningful
// when Obs.AddrsSeen).
func (n *Node) HasAddr(a string) (Interface, bool) {
	for _, it := range n.Obs.Interfaces {
		for _, p := range it.Prefixes {
			if p.Addr().String() == a {
				return it, true
			}
		}
	}
	return Interface{}, false
}

func appendUnique(s []string, v string) []string {
	if v == "" {
		return s
	}
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

// Session is what the evidence says about one BGP session of a node.
type Session struct {
	// Peer is the neighbor address.
	Peer string
	// Protocol is BIRD's protocol name, if known.
	Protocol string
	// BGPState is "Established", "Active", "Connect", "Passive", "Idle"...;
	// empty when only the readiness message named the peer.
	BGPState string
	// Error is the last error BIRD shows, e.g. "Socket: Connection refused".
	Error string
	// Established is true when the evidence shows the session up.
	Established bool
	// Passive is true when this end only waits for the peer to connect.
	Passive bool
	// Mesh is true for Calico node-to-node mesh sessions.
	Mesh bool
	// Lines are the evidence lines about the session.
	Lines []Line
}

// Sessions merges what protocols, calicoctl status and readiness messages
// say about each peer of n, sorted by peer address.
func (n *Node) Sessions() []Session {
	if n.cacheOn && n.sessions != nil {
		return n.sessions
	}
	out := n.buildSessions()
	if n.cacheOn {
		n.sessions = out
	}
	return out
}

// buildSessions computes Sessions.
func (n *Node) buildSessions() []Session {
	byPeer := map[string]*Session{}
	get := func(peer string) *Session {
		s, ok := byPeer[peer]
		if !ok {
			s = &Session{Peer: peer}
			byPeer[peer] = s
		}
		return s
	}
	cfgPeer := map[string]ConfigPeer{}
	for _, cfg := range n.Obs.BirdConfigs {
		for _, p := range cfg.Peers {
			cfgPeer[p.Name] = p
		}
	}
	for _, p := range n.Obs.Protocols {
		if p.Proto != "BGP" && !calicoBGPProtocol(p.Name) {
			continue
		}
		peer := p.NeighborAddress
		if peer == "" {
			peer = cfgPeer[p.Name].Neighbor
		}
		if peer == "" {
			peer = peerFromProtocolName(p.Name)
		}
		if peer == "" {
			continue
		}
		s := get(peer)
		s.Protocol = p.Name
		s.Mesh = s.Mesh || strings.HasPrefix(p.Name, "Mesh_")
		state := p.Info
		if state == "" {
			state = p.BGPState
		}
		s.BGPState = state
		s.Established = state == "Established"
		if e := p.LastError; e != "" {
			s.Error = e
		} else if p.InfoDetail != "" {
			s.Error = p.InfoDetail
		}
		s.Passive = s.Passive || state == "Passive" || cfgPeer[p.Name].Passive
		s.Lines = append(s.Lines, p.Line)
		if p.LastErrorLine.Text != "" && p.InfoDetail == "" {
			s.Lines = append(s.Lines, p.LastErrorLine)
		}
	}
	for _, st := range n.Obs.Status {
		for _, sp := range st.Peers {
			s := get(sp.Address)
			s.Mesh = s.Mesh || strings.Contains(sp.Type, "mesh")
			state, rest, _ := strings.Cut(sp.Info, " ")
			if s.BGPState == "" {
				s.BGPState = state
				s.Established = state == "Established"
			}
			if s.Error == "" {
				s.Error = strings.TrimSpace(rest)
			}
			s.Passive = s.Passive || state == "Passive"
			s.Lines = append(s.Lines, sp.Line)
		}
	}
	for _, rs := range n.Obs.RouterSessions {
		s := get(rs.Peer)
		s.BGPState, s.Established, s.Error = rs.State, rs.Established(), rs.LastError
		s.Lines = append(s.Lines, rs.Line)
	}
	for _, r := range n.Obs.Readiness {
		for _, a := range r.NotEstablished {
			s := get(a)
			if s.BGPState == "" {
				s.Established = false
			}
			s.Lines = append(s.Lines, r.Line)
		}
	}
	for _, p := range cfgPeer {
		if s, ok := byPeer[p.Neighbor]; ok {
			s.Passive = s.Passive || p.Passive
			s.Mesh = s.Mesh || strings.HasPrefix(p.Name, "Mesh_")
			if s.Protocol == "" {
				s.Protocol = p.Name
			}
		}
	}
	out := make([]Session, 0, len(byPeer))
	for _, s := range byPeer {
		// Clipped, so a caller appending to Lines never writes into
		// the cached slice.
		s.Lines = slices.Clip(s.Lines)
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Peer < out[j].Peer })
	return out
}

// DownSessions returns the sessions that are not Established.
func (n *Node) DownSessions() []Session {
	var out []Session
	for _, s := range n.Sessions() {
		if !s.Established {
			out = append(out, s)
		}
	}
	return out
}

// Unconfigured reports whether n's BIRD runs without any Calico BGP
// protocol (no Mesh_, Node_ or Global_): bird.cfg without peers, or `show
// protocols` listing other protocols but no BGP one. The lines say why.
func (n *Node) Unconfigured() ([]Line, bool) {
	var why []Line
	for _, cfg := range n.Obs.BirdConfigs {
		if len(cfg.Peers) > 0 {
			return nil, false
		}
		why = append(why, Line{cfg.Source, "bird.cfg has no 'protocol bgp' (no Mesh_/Node_/Global_ peers)"})
	}
	if len(n.Obs.Protocols) > 0 {
		for _, p := range n.Obs.Protocols {
			if p.Proto == "BGP" || calicoBGPProtocol(p.Name) {
				return nil, false
			}
		}
		src := n.Obs.Protocols[0].Line.Source
		why = append(why, Line{src, "show protocols lists no BGP protocol (no Mesh_/Node_/Global_)"})
	}
	return why, len(why) > 0
}

// BirdDown reports whether the evidence says BIRD is not running on n: its
// control socket is missing (readiness, calicoctl), calicoctl says so, or
// BIRD's log says it could not read its configuration (it exits then).
func (n *Node) BirdDown() ([]Line, bool) {
	var why []Line
	for _, bl := range n.Obs.BirdLog {
		if bl.NoConfig {
			why = append(why, bl.Line)
			break
		}
	}
	for _, r := range n.Obs.Readiness {
		if r.BirdSocketMissing {
			why = append(why, r.Line)
		}
	}
	for _, st := range n.Obs.Status {
		if st.BirdDown || st.CalicoNotRunning {
			why = append(why, st.Lines...)
		}
	}
	return why, len(why) > 0
}

// listenersOn returns the listeners of n on port.
func (n *Node) listenersOn(port int) []Listener {
	var out []Listener
	for _, l := range n.Obs.Listeners {
		if l.Port == port {
			out = append(out, l)
		}
	}
	return out
}

// errorEvents returns the BGP errors n shows per peer: the sessions' last
// errors and BIRD log lines about protocols, skipping log lines about
// peers whose session is Established now.
func (n *Node) errorEvents() []errorEvent {
	if n.cacheOn && n.events != nil {
		return n.events
	}
	out := n.buildErrorEvents()
	if n.cacheOn {
		n.events = out
	}
	return out
}

// buildErrorEvents computes errorEvents.
func (n *Node) buildErrorEvents() []errorEvent {
	out := []errorEvent{}
	up := map[string]bool{}
	protoPeer := map[string]string{}
	for _, s := range n.Sessions() {
		if s.Established {
			up[s.Peer] = true
		}
		if s.Protocol != "" {
			protoPeer[s.Protocol] = s.Peer
		}
		if s.Error != "" && !s.Established {
			out = append(out, errorEvent{Peer: s.Peer, Text: s.Error, Lines: s.Lines})
		}
	}
	for _, cfg := range n.Obs.BirdConfigs {
		for _, p := range cfg.Peers {
			if _, ok := protoPeer[p.Name]; !ok {
				protoPeer[p.Name] = p.Neighbor
			}
		}
	}
	for _, bl := range n.Obs.BirdLog {
		if bl.Protocol == "" {
			continue
		}
		peer := protoPeer[bl.Protocol]
		if peer == "" {
			peer = peerFromProtocolName(bl.Protocol)
		}
		if up[peer] {
			continue
		}
		out = append(out, errorEvent{Peer: peer, Text: bl.Message, Lines: []Line{bl.Line}})
	}
	return out
}

// errorEvent is one error text about a peer and where it was seen.
type errorEvent struct {
	Peer  string
	Text  string
	Lines []Line
}
