package k8s

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"

	"github.com/peerlab/peerlab/internal/bird"
)

// BGPPlan is what calico-node's confd renders for one node from Calico's
// resources: the node's AS, the port BIRD listens on and its BGP peers.
type BGPPlan struct {
	// ASN is the node's AS: its Node's spec.bgp.asNumber, else the default
	// BGPConfiguration's asNumber, else DefaultASN.
	ASN uint32
	// ListenPort is BIRD's port: BGPConfiguration node.<name>'s
	// listenPort, else default's, else the lab's port.
	ListenPort uint16
	// ClusterID is the node's routeReflectorClusterID, "" when it is no
	// route reflector.
	ClusterID string
	// LogSeverity is logSeverityScreen (node.<name>'s, else default's).
	LogSeverity string
	// Peers are the BGP peers in Calico's order: Mesh_ by address, then
	// Global_, then Node_, each by address.
	Peers []bird.Peer
	// Warnings are what confd logs about resources it could not use.
	Warnings []string
}

// calicoNodeView is one Calico node as the renderer sees it.
type calicoNodeView struct {
	name   string
	addr   netip.Addr
	asn    uint32
	port   uint16
	cid    string
	labels map[string]string
}

// RenderBGP renders node self's BGP plan from ds the way Calico's confd
// templates (bird.cfg.template) and its BGPPeer processing do:
//
//   - node-to-node mesh (nodeToNodeMeshEnabled, default true): a Mesh_
//     peer for every other Calico node with an IPv4 address, at its AS and
//     listen port (BIRD's config makes the lower address passive);
//   - BGPPeers without node and nodeSelector: Global_ peers on every node;
//     with node or a nodeSelector matching self: Node_ peers, skipped when
//     a global peer already has that address;
//   - peerIP (address[:port]) with asNumber, or peerSelector: every
//     Calico node whose labels match, at its own address, AS and port;
//   - reverse peerings: a node a BGPPeer's peerSelector matches (or whose
//     address and AS its peerIP and asNumber name) gets Node_ peers to the
//     nodes the BGPPeer is for;
//   - a peer with self's address is skipped ("Skipping ourselves");
//   - rr client and rr cluster id on a peer in self's AS when self has a
//     routeReflectorClusterID and the peer another (or none);
//   - password from the Secret key in kube-system.
//
// labPort is the port when no BGPConfiguration sets one. It fails when
// self has no Calico Node with an IPv4 address.
func RenderBGP(ds Datastore, self string, labPort uint16) (BGPPlan, error) {
	var plan BGPPlan
	mesh := true
	globalASN := uint32(DefaultASN)
	defPort := labPort
	for _, c := range ds.BGPConfigurations {
		if c.Metadata.Name != "default" {
			continue
		}
		if c.Spec.NodeToNodeMeshEnabled != nil {
			mesh = *c.Spec.NodeToNodeMeshEnabled
		}
		if c.Spec.ASNumber != nil && *c.Spec.ASNumber != 0 {
			globalASN = *c.Spec.ASNumber
		}
		if c.Spec.ListenPort != nil && *c.Spec.ListenPort != 0 {
			defPort = *c.Spec.ListenPort
		}
		plan.LogSeverity = c.Spec.LogSeverityScreen
	}
	portOf := func(node string) uint16 {
		for _, c := range ds.BGPConfigurations {
			if c.Metadata.Name == "node."+node && c.Spec.ListenPort != nil && *c.Spec.ListenPort != 0 {
				return *c.Spec.ListenPort
			}
		}
		return defPort
	}
	for _, c := range ds.BGPConfigurations {
		if c.Metadata.Name == "node."+self && c.Spec.LogSeverityScreen != "" {
			plan.LogSeverity = c.Spec.LogSeverityScreen
		}
	}
	var nodes []calicoNodeView
	var me *calicoNodeView
	for _, n := range ds.Nodes {
		v := calicoNodeView{name: n.Metadata.Name, asn: globalASN, port: portOf(n.Metadata.Name), labels: n.Metadata.Labels}
		if b := n.Spec.BGP; b != nil {
			if p, err := netip.ParsePrefix(b.IPv4Address); err == nil && p.Addr().Is4() {
				v.addr = p.Addr()
			}
			if b.ASNumber != nil && *b.ASNumber != 0 {
				v.asn = *b.ASNumber
			}
			v.cid = b.RouteReflectorClusterID
		}
		nodes = append(nodes, v)
	}
	for i := range nodes {
		if nodes[i].name == self {
			me = &nodes[i]
		}
	}
	if me == nil || !me.addr.IsValid() {
		return BGPPlan{}, fmt.Errorf("node %s has no Calico Node with spec.bgp.ipv4Address", self)
	}
	plan.ASN, plan.ListenPort, plan.ClusterID = me.asn, me.port, me.cid
	if mesh {
		for _, n := range nodes {
			if n.name == self || !n.addr.IsValid() || n.addr == me.addr {
				continue
			}
			plan.Peers = append(plan.Peers, bird.Peer{Name: n.name, Address: n.addr, ASN: n.asn, Port: n.port, Kind: bird.KindMesh})
		}
	}
	byIP := func(a, b bird.Peer) int {
		return cmp.Or(a.Address.Compare(b.Address), cmp.Compare(a.Port, b.Port))
	}
	slices.SortFunc(plan.Peers, byIP)
	global := map[netip.Addr]bool{}
	var globals, locals []bird.Peer
	add := func(list *[]bird.Peer, kind bird.PeerKind, t calicoNodeView, bp BGPPeer, password string) {
		if t.addr == me.addr || (kind == bird.KindNode && global[t.addr]) {
			return // "Skipping ourselves", or a global peering has it
		}
		p := bird.Peer{Name: cmp.Or(t.name, bp.Metadata.Name), Address: t.addr, ASN: t.asn, Port: t.port, Kind: kind, Password: password}
		if p.ASN == me.asn && me.cid != "" && t.cid != me.cid {
			p.RouteReflectorClient, p.ClusterID = true, me.cid
		}
		if i := slices.IndexFunc(*list, func(q bird.Peer) bool { return q.Address == p.Address && q.Port == p.Port }); i >= 0 {
			(*list)[i] = p // one peering per address and port; the last BGPPeer wins
			return
		}
		*list = append(*list, p)
	}
	// Global peers first, so that node-specific ones can skip their addresses.
	for _, pass := range []bird.PeerKind{bird.KindGlobal, bird.KindNode} {
		for _, bp := range ds.BGPPeers {
			isGlobal := bp.Spec.Node == "" && bp.Spec.NodeSelector == ""
			if isGlobal != (pass == bird.KindGlobal) || (!isGlobal && !peerAppliesTo(bp, *me)) {
				continue
			}
			password := plan.password(ds, bp)
			for _, t := range peerTargets(bp, nodes, defPort, &plan) {
				if pass == bird.KindGlobal {
					add(&globals, pass, t, bp, password)
				} else {
					add(&locals, pass, t, bp, password)
				}
			}
		}
		for _, p := range globals {
			global[p.Address] = true
		}
	}
	// Reverse peerings: a node a BGPPeer peers with (peerSelector, or
	// peerIP and AS of a Calico node) peers back with the nodes the BGPPeer
	// is for, so that both ends are configured.
	for _, bp := range ds.BGPPeers {
		if !reverseTarget(bp, *me, globalASN) {
			continue
		}
		password := plan.password(ds, bp)
		for _, n := range nodes {
			if n.addr.IsValid() && forNode(bp, n) {
				add(&locals, bird.KindNode, n, bp, password)
			}
		}
	}
	slices.SortFunc(globals, byIP)
	slices.SortFunc(locals, byIP)
	plan.Peers = append(append(plan.Peers, globals...), locals...)
	return plan, nil
}

// password is a BGPPeer's password, noting a missing Secret or key.
func (plan *BGPPlan) password(ds Datastore, bp BGPPeer) string {
	pw, warn := peerPassword(ds, bp)
	if warn != "" && !slices.Contains(plan.Warnings, warn) {
		plan.Warnings = append(plan.Warnings, warn)
	}
	return pw
}

// forNode reports whether BGPPeer bp is for node n: every node for a
// global peer, else node or nodeSelector.
func forNode(bp BGPPeer, n calicoNodeView) bool {
	if bp.Spec.Node == "" && bp.Spec.NodeSelector == "" {
		return true
	}
	return peerAppliesTo(bp, n)
}

// reverseTarget reports whether node n is what BGPPeer bp peers with:
// its peerSelector matches n, or its peerIP is n's address with n's AS
// (and n's port, when peerIP has one).
func reverseTarget(bp BGPPeer, n calicoNodeView, globalASN uint32) bool {
	if bp.Spec.PeerSelector != "" {
		sel, err := ParseCalicoSelector(bp.Spec.PeerSelector)
		return err == nil && sel(n.labels)
	}
	ap, err := parsePeerIP(bp.Spec.PeerIP)
	if err != nil || ap.Addr() != n.addr {
		return false
	}
	asn := cmp.Or(bp.Spec.ASNumber, globalASN)
	return asn == n.asn && (ap.Port() == 0 || ap.Port() == n.port)
}

// peerAppliesTo reports whether a node-specific BGPPeer is for node n.
func peerAppliesTo(bp BGPPeer, n calicoNodeView) bool {
	if bp.Spec.Node != "" {
		return bp.Spec.Node == n.name
	}
	sel, err := ParseCalicoSelector(bp.Spec.NodeSelector)
	return err == nil && sel(n.labels)
}

// peerTargets are the addresses a BGPPeer peers with.
func peerTargets(bp BGPPeer, nodes []calicoNodeView, defPort uint16, plan *BGPPlan) []calicoNodeView {
	if bp.Spec.PeerSelector != "" {
		sel, err := ParseCalicoSelector(bp.Spec.PeerSelector)
		if err != nil {
			plan.Warnings = append(plan.Warnings, fmt.Sprintf("BGPPeer %s: peerSelector %q: %v", bp.Metadata.Name, bp.Spec.PeerSelector, err))
			return nil
		}
		var out []calicoNodeView
		for _, n := range nodes {
			if n.addr.IsValid() && sel(n.labels) {
				out = append(out, n)
			}
		}
		if len(out) == 0 {
			plan.Warnings = append(plan.Warnings, fmt.Sprintf("BGPPeer %s: peerSelector %q matches no Calico node", bp.Metadata.Name, bp.Spec.PeerSelector))
		}
		return out
	}
	ap, err := parsePeerIP(bp.Spec.PeerIP)
	if err != nil {
		plan.Warnings = append(plan.Warnings, fmt.Sprintf("BGPPeer %s: PeerIP is not assigned or is malformed", bp.Metadata.Name))
		return nil
	}
	t := calicoNodeView{addr: ap.Addr(), asn: bp.Spec.ASNumber, port: ap.Port()}
	for _, n := range nodes {
		if n.addr == t.addr && (t.asn == 0 || t.asn == n.asn) {
			t.name = n.name
			if t.port == 0 {
				t.port = n.port
			}
		}
	}
	if t.port == 0 {
		t.port = defPort
	}
	if t.asn == 0 {
		plan.Warnings = append(plan.Warnings, fmt.Sprintf("BGPPeer %s: asNumber is not set", bp.Metadata.Name))
		return nil
	}
	return []calicoNodeView{t}
}

// peerPassword reads a BGPPeer's password from its Secret; a missing
// Secret or key is a warning and no password.
func peerPassword(ds Datastore, bp BGPPeer) (string, string) {
	if bp.Spec.Password == nil || bp.Spec.Password.SecretKeyRef == nil {
		return "", ""
	}
	ref := bp.Spec.Password.SecretKeyRef
	for _, s := range ds.Secrets {
		if s.Metadata.Name == ref.Name && (s.Metadata.Namespace == "" || s.Metadata.Namespace == CalicoNamespace) {
			if v, ok := s.Data[ref.Key]; ok {
				return string(v), ""
			}
			return "", fmt.Sprintf("BGPPeer %s: secret %s/%s has no key %q", bp.Metadata.Name, CalicoNamespace, ref.Name, ref.Key)
		}
	}
	return "", fmt.Sprintf("BGPPeer %s: secret %s/%s not found", bp.Metadata.Name, CalicoNamespace, ref.Name)
}
