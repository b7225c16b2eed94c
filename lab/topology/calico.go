package topology

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"

	"github.com/peerlab/peerlab/lab/k8s"
)

// Calico is the `calico:` block: Calico datastore resources the lab's API
// server stand-in starts with (docs/datastore.md). Field names are Calico's in
// the topology's lower-case style (asNumber is as-number). Without the block the
// lab derives the resources from the nodes (every calico-node's address and
// AS, the node-to-node mesh on), which is what topologies meant before.
type Calico struct {
	// BGPConfiguration is the "default" BGPConfiguration; nil when unset.
	BGPConfiguration *CalicoBGPConfiguration
	// BGPPeers in file order.
	BGPPeers []CalicoBGPPeer
	// Nodes holds per-node settings by node name.
	Nodes map[string]CalicoNode
	// Secrets are kube-system Secrets: name -> key -> value.
	Secrets map[string]map[string]string
}

// CalicoBGPConfiguration is the default BGPConfiguration's spec; nil
// fields are unset (Calico's defaults apply).
type CalicoBGPConfiguration struct {
	ASNumber              *uint32
	NodeToNodeMeshEnabled *bool
	ListenPort            *uint16
	LogSeverityScreen     string
}

// CalicoBGPPeer is one BGPPeer.
type CalicoBGPPeer struct {
	Name, Node, NodeSelector, PeerSelector, PeerIP string
	ASNumber                                       uint32
	// SecretName and SecretKey are password.secretKeyRef; "" for none.
	SecretName, SecretKey string
}

// CalicoNode is a calico-node's Calico Node fields besides its address.
type CalicoNode struct {
	Labels                  map[string]string
	ASNumber                *uint32
	RouteReflectorClusterID string
	// ListenPort becomes BGPConfiguration node.<name>'s listenPort.
	ListenPort *uint16
}

type rawCalico struct {
	BGPConfiguration *rawCalicoConfig             `yaml:"bgpconfiguration"`
	BGPPeers         []rawCalicoPeer              `yaml:"bgppeers"`
	Nodes            map[string]*rawCalicoNode    `yaml:"nodes"`
	Secrets          map[string]map[string]string `yaml:"secrets"`
}

type rawCalicoConfig struct {
	ASNumber              rawNumber `yaml:"as-number"`
	NodeToNodeMeshEnabled *bool     `yaml:"node-to-node-mesh-enabled"`
	ListenPort            rawNumber `yaml:"listen-port"`
	LogSeverityScreen     *string   `yaml:"log-severity-screen"`
}

type rawCalicoPeer struct {
	Name         *string            `yaml:"name"`
	Node         *string            `yaml:"node"`
	NodeSelector *string            `yaml:"node-selector"`
	PeerSelector *string            `yaml:"peer-selector"`
	PeerIP       *string            `yaml:"peer-ip"`
	ASNumber     rawNumber          `yaml:"as-number"`
	Password     *rawCalicoPassword `yaml:"password"`
}

type rawCalicoPassword struct {
	SecretKeyRef *rawSecretKeyRef `yaml:"secret-key-ref"`
}

type rawSecretKeyRef struct {
	Name *string `yaml:"name"`
	Key  *string `yaml:"key"`
}

type rawCalicoNode struct {
	Labels                  map[string]string `yaml:"labels"`
	ASNumber                rawNumber         `yaml:"as-number"`
	RouteReflectorClusterID *string           `yaml:"route-reflector-cluster-id"`
	ListenPort              rawNumber         `yaml:"listen-port"`
}

// logSeverities are the values Calico's logSeverityScreen takes.
var logSeverities = []string{"Debug", "Info", "Warning", "Error", "Fatal"}

// buildCalico validates the `calico:` block against the nodes.
func (b *builder) buildCalico(raw *rawCalico, nodes []*Node) *Calico {
	if raw == nil {
		return nil
	}
	calicoNodes := map[string]*Node{}
	for _, n := range nodes {
		if n.HasRole(RoleCalicoNode) {
			calicoNodes[n.Name] = n
		}
	}
	if len(calicoNodes) == 0 {
		b.c.add("calico", "the calico block needs at least one node with role calico-node (and one with apiserver)")
	}
	c := &Calico{Nodes: map[string]CalicoNode{}, Secrets: raw.Secrets}
	port := func(n rawNumber, path string) *uint16 {
		if !n.Set {
			return nil
		}
		if !n.in(1, 65535) {
			b.c.add(path, fmt.Sprintf("%s is not a port (1..65535)", n.Text))
			return nil
		}
		v := uint16(n.Value)
		return &v
	}
	asn := func(n rawNumber, path string) *uint32 {
		if !n.Set {
			return nil
		}
		v := b.checkASN(n, path)
		return &v
	}
	if r := raw.BGPConfiguration; r != nil {
		cfg := &CalicoBGPConfiguration{
			ASNumber:              asn(r.ASNumber, "calico.bgpconfiguration.asNumber"),
			NodeToNodeMeshEnabled: r.NodeToNodeMeshEnabled,
			ListenPort:            port(r.ListenPort, "calico.bgpconfiguration.listenPort"),
		}
		if r.LogSeverityScreen != nil {
			cfg.LogSeverityScreen = *r.LogSeverityScreen
			if !slices.Contains(logSeverities, cfg.LogSeverityScreen) {
				b.c.add("calico.bgpconfiguration.log-severity-screen", fmt.Sprintf("%q is not one of %v", cfg.LogSeverityScreen, logSeverities))
			}
		}
		c.BGPConfiguration = cfg
	}
	for _, name := range slices.Sorted(maps.Keys(raw.Nodes)) {
		path := joinKey("calico.nodes", name)
		r := raw.Nodes[name]
		if calicoNodes[name] == nil {
			b.c.add(path, fmt.Sprintf("%s is not a node with role calico-node", name))
			continue
		}
		if r == nil {
			continue
		}
		n := CalicoNode{Labels: r.Labels, ASNumber: asn(r.ASNumber, path+".as-number"), ListenPort: port(r.ListenPort, path+".listen-port")}
		if r.RouteReflectorClusterID != nil {
			n.RouteReflectorClusterID = *r.RouteReflectorClusterID
			if a, err := netip.ParseAddr(n.RouteReflectorClusterID); err != nil || !a.Is4() {
				b.c.add(path+".route-reflector-cluster-id", fmt.Sprintf("%q is not an IPv4 address", n.RouteReflectorClusterID))
			}
		}
		c.Nodes[name] = n
	}
	seen := map[string]int{}
	for i, r := range raw.BGPPeers {
		path := fmt.Sprintf("calico.bgppeers[%d]", i)
		p := CalicoBGPPeer{}
		str := func(s *string) string {
			if s == nil {
				return ""
			}
			return *s
		}
		p.Name, p.Node, p.NodeSelector, p.PeerSelector, p.PeerIP = str(r.Name), str(r.Node), str(r.NodeSelector), str(r.PeerSelector), str(r.PeerIP)
		switch j, dup := seen[p.Name]; {
		case p.Name == "":
			b.c.add(path, "name is required")
		case dup:
			b.c.add(path+".name", fmt.Sprintf("BGPPeer %q is already calico.bgppeers[%d]", p.Name, j))
		default:
			seen[p.Name] = i
		}
		if p.Node != "" && calicoNodes[p.Node] == nil {
			b.c.add(path+".node", fmt.Sprintf("%s is not a node with role calico-node", p.Node))
		}
		if p.Node != "" && p.NodeSelector != "" {
			b.c.add(path+".node-selector", "node and node-selector are mutually exclusive")
		}
		for _, s := range []struct{ key, sel string }{{"node-selector", p.NodeSelector}, {"peer-selector", p.PeerSelector}} {
			if s.sel == "" {
				continue
			}
			if _, err := k8s.ParseCalicoSelector(s.sel); err != nil {
				b.c.add(path+"."+s.key, fmt.Sprintf("%q is not a Calico selector: %v", s.sel, err))
			}
		}
		switch {
		case p.PeerIP == "" && p.PeerSelector == "":
			b.c.add(path, "peer-ip or peer-selector is required")
		case p.PeerIP != "" && p.PeerSelector != "":
			b.c.add(path+".peer-selector", "peer-ip and peer-selector are mutually exclusive")
		case p.PeerIP != "":
			if !validPeerIP(p.PeerIP) {
				b.c.add(path+".peer-ip", fmt.Sprintf("%q is not an IPv4 address or address:port", p.PeerIP))
			}
			if !r.ASNumber.Set {
				b.c.add(path, "as-number is required with peer-ip")
			}
		}
		if v := asn(r.ASNumber, path+".as-number"); v != nil {
			p.ASNumber = *v
		}
		if r.Password != nil {
			ref := r.Password.SecretKeyRef
			if ref == nil || ref.Name == nil || ref.Key == nil {
				b.c.add(path+".password", "password needs secret-key-ref with name and key")
			} else {
				p.SecretName, p.SecretKey = *ref.Name, *ref.Key
				if _, ok := raw.Secrets[p.SecretName][p.SecretKey]; !ok {
					b.c.add(path+".password.secret-key-ref", fmt.Sprintf("secret %s has no key %q in calico.secrets", p.SecretName, p.SecretKey))
				}
			}
		}
		c.BGPPeers = append(c.BGPPeers, p)
	}
	return c
}

// validPeerIP reports whether s is an IPv4 address, optionally with :port.
func validPeerIP(s string) bool {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Is4() && ap.Port() != 0
	}
	a, err := netip.ParseAddr(s)
	return err == nil && a.Is4()
}
