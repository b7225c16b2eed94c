package diagnose

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/peerlab/peerlab/internal/bird"
	"github.com/peerlab/peerlab/internal/lazy"
	"github.com/peerlab/peerlab/lab/k8s"
)

// calicoDefaultAS is the AS Calico gives nodes when neither the default
// BGPConfiguration nor the Node sets one.
const calicoDefaultAS = 64512

// calicoRes is every Calico BGP resource the evidence holds.
type calicoRes struct {
	configs []CalicoBGPConfiguration
	peers   []CalicoBGPPeer
	nodes   []CalicoNodeRes
}

// calicoResources gathers the resources of every node's observations.
func calicoResources(c *Cluster) calicoRes {
	var r calicoRes
	for _, n := range c.Nodes {
		r.configs = append(r.configs, n.Obs.BGPConfigurations...)
		r.peers = append(r.peers, n.Obs.BGPPeers...)
		r.nodes = append(r.nodes, n.Obs.CalicoNodes...)
	}
	return r
}

// config returns the BGPConfiguration named name.
func (r calicoRes) config(name string) (CalicoBGPConfiguration, bool) {
	for _, bc := range r.configs {
		if bc.Name == name {
			return bc, true
		}
	}
	return CalicoBGPConfiguration{}, false
}

// nodeAS is the AS node runs in: its own, else the cluster's.
func (r calicoRes) nodeAS(n CalicoNodeRes) uint32 {
	if n.ASNumber != 0 {
		return n.ASNumber
	}
	if d, ok := r.config("default"); ok && d.ASNumber != 0 {
		return d.ASNumber
	}
	return calicoDefaultAS
}

// nodeByAddr returns the Calico node whose BGP address is a.
func (r calicoRes) nodeByAddr(a string) (CalicoNodeRes, bool) {
	for _, n := range r.nodes {
		if addrOnly(n.IPv4Address) == a && a != "" {
			return n, true
		}
	}
	return CalicoNodeRes{}, false
}

// selected returns the Calico nodes sel matches; ok is false when the
// selector does not parse.
func (r calicoRes) selected(sel string) ([]CalicoNodeRes, bool) {
	match, err := k8s.ParseCalicoSelector(sel)
	if err != nil {
		return nil, false
	}
	var out []CalicoNodeRes
	for _, n := range r.nodes {
		if match(n.Labels) {
			out = append(out, n)
		}
	}
	return out, true
}

// appliesTo returns the Calico nodes whose BIRD the BGPPeer configures.
func (r calicoRes) appliesTo(bp CalicoBGPPeer) []CalicoNodeRes {
	switch {
	case bp.Node != "":
		for _, n := range r.nodes {
			if n.Name == bp.Node {
				return []CalicoNodeRes{n}
			}
		}
		return []CalicoNodeRes{{Name: bp.Node}}
	case bp.NodeSelector != "":
		out, _ := r.selected(bp.NodeSelector)
		return out
	}
	return r.nodes
}

// addrOnly strips a prefix length or port: "10.0.0.2/24", "10.0.0.2:179".
func addrOnly(s string) string {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Addr().String()
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().String()
	}
	return s
}

// badPeerASRe reads the AS BIRD quotes in "Bad peer AS: 65000".
var badPeerASRe = lazy.Regexp(`Bad peer AS:? (\d+)`)

// badPeerAS returns n's evidence of NOTIFICATION 2/2 (Bad peer AS) on its
// session with peer; sent is true when BIRD itself refused the peer's
// OPEN (its configured neighbor AS is not the peer's), and quotedAS is the
// AS BIRD quotes then (0 when it quotes none).
func badPeerAS(n *Node, peer string) (lines []Line, sent bool, quotedAS uint32) {
	if n == nil {
		return nil, false, 0
	}
	for _, ev := range n.errorEvents() {
		if ev.Peer != peer {
			continue
		}
		le := bird.ParseLastError(ev.Text)
		if !le.Notification || le.Code != 2 || le.Subcode != 2 {
			continue
		}
		lines = append(lines, ev.Lines...)
		if !le.Sent {
			continue
		}
		sent = true
		for _, l := range ev.Lines {
			if m := badPeerASRe().FindStringSubmatch(l.Text); m != nil {
				if v, err := strconv.ParseUint(m[1], 10, 32); err == nil {
					quotedAS = uint32(v)
				}
			}
		}
	}
	return lines, sent, quotedAS
}

// hasBGPProtocol reports whether n's BIRD (show protocols or bird.cfg) was
// seen, and whether it has any BGP protocol.
func hasBGPProtocol(n *Node) (seen, any bool) {
	if n == nil {
		return false, false
	}
	for _, p := range n.Obs.Protocols {
		seen = true
		if strings.EqualFold(p.Proto, "BGP") {
			any = true
		}
	}
	for _, bc := range n.Obs.BirdConfigs {
		seen = true
		if len(bc.Peers) > 0 {
			any = true
		}
	}
	return seen, any
}
