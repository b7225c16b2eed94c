package k8s

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
)

// Calico's datastore resources as the Kubernetes datastore holds them:
// group crd.projectcalico.org, version v1, spec fields camelCase exactly as
// Calico's (projectcalico.org/v3) types name them. Only the fields the lab
// renders are typed; others are kept in the store as written.

// Calico's API group and the apiVersions it is written and printed in.
const (
	CalicoGroup      = "crd.projectcalico.org"
	CalicoAPIVersion = CalicoGroup + "/v1"
	// CalicoctlAPIVersion is what calicoctl prints.
	CalicoctlAPIVersion = "projectcalico.org/v3"
	// CalicoNamespace is where calico-node runs and reads BGP passwords.
	CalicoNamespace = "kube-system"
)

// Kinds the store holds.
const (
	KindBGPConfiguration = "BGPConfiguration"
	KindBGPPeer          = "BGPPeer"
	KindCalicoNode       = "Node"
	KindSecret           = "Secret"
)

// Meta is the part of ObjectMeta the lab reads.
type Meta struct {
	Name            string            `json:"name"`
	Namespace       string            `json:"namespace,omitempty"`
	Labels          map[string]string `json:"labels,omitempty"`
	ResourceVersion string            `json:"resourceVersion,omitempty"`
}

// BGPConfiguration is Calico's BGPConfiguration: "default" holds the
// cluster's settings, "node.<name>" one node's (listenPort,
// logSeverityScreen).
type BGPConfiguration struct {
	APIVersion string               `json:"apiVersion"`
	Kind       string               `json:"kind"`
	Metadata   Meta                 `json:"metadata"`
	Spec       BGPConfigurationSpec `json:"spec"`
}

// BGPConfigurationSpec is the spec of a BGPConfiguration.
type BGPConfigurationSpec struct {
	LogSeverityScreen     string  `json:"logSeverityScreen,omitempty"`
	NodeToNodeMeshEnabled *bool   `json:"nodeToNodeMeshEnabled,omitempty"`
	ASNumber              *uint32 `json:"asNumber,omitempty"`
	ListenPort            *uint16 `json:"listenPort,omitempty"`
}

// BGPPeer is Calico's BGPPeer: global (neither node nor nodeSelector),
// node-specific (node or nodeSelector), to one address (peerIP, asNumber)
// or to the Calico nodes peerSelector picks.
type BGPPeer struct {
	APIVersion string      `json:"apiVersion"`
	Kind       string      `json:"kind"`
	Metadata   Meta        `json:"metadata"`
	Spec       BGPPeerSpec `json:"spec"`
}

// BGPPeerSpec is the spec of a BGPPeer.
type BGPPeerSpec struct {
	Node         string       `json:"node,omitempty"`
	PeerIP       string       `json:"peerIP,omitempty"`
	ASNumber     uint32       `json:"asNumber,omitempty"`
	NodeSelector string       `json:"nodeSelector,omitempty"`
	PeerSelector string       `json:"peerSelector,omitempty"`
	Password     *BGPPassword `json:"password,omitempty"`
}

// BGPPassword is where a BGPPeer's password comes from.
type BGPPassword struct {
	SecretKeyRef *SecretKeyRef `json:"secretKeyRef,omitempty"`
}

// SecretKeyRef names one key of a Secret in calico-node's namespace.
type SecretKeyRef struct {
	Name string `json:"name"`
	Key  string `json:"key"`
}

// CalicoNode is Calico's Node resource (crd.projectcalico.org/v1 Node):
// the node's BGP address, AS and route reflector cluster; its labels are
// what nodeSelector and peerSelector match.
type CalicoNode struct {
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	Metadata   Meta           `json:"metadata"`
	Spec       CalicoNodeSpec `json:"spec"`
}

// CalicoNodeSpec is the spec of a Calico Node.
type CalicoNodeSpec struct {
	BGP *NodeBGPSpec `json:"bgp,omitempty"`
}

// NodeBGPSpec is a Calico Node's BGP settings.
type NodeBGPSpec struct {
	ASNumber                *uint32 `json:"asNumber,omitempty"`
	IPv4Address             string  `json:"ipv4Address,omitempty"`
	RouteReflectorClusterID string  `json:"routeReflectorClusterID,omitempty"`
}

// Secret is a v1 Secret; Data values are base64 in JSON.
type Secret struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Metadata   Meta              `json:"metadata"`
	Type       string            `json:"type,omitempty"`
	Data       map[string][]byte `json:"data,omitempty"`
}

// Datastore is everything calico-node's confd reads to render BIRD's
// configuration: what the lab's confd hands the lab after each change.
type Datastore struct {
	BGPConfigurations []BGPConfiguration `json:"bgpConfigurations,omitempty"`
	BGPPeers          []BGPPeer          `json:"bgpPeers,omitempty"`
	Nodes             []CalicoNode       `json:"nodes,omitempty"`
	Secrets           []Secret           `json:"secrets,omitempty"`
}

// validateObject checks an object written to the store against its kind's
// typed fields (JSON types, addresses, numbers), as the CRD's OpenAPI schema
// and Calico's validation would. It returns the field error message.
func validateObject(kind string, o obj) error {
	data, err := json.Marshal(o)
	if err != nil {
		return err
	}
	dec := func(v any) error {
		if err := json.Unmarshal(data, v); err != nil {
			return fmt.Errorf("%s in body: %w", kind, err)
		}
		return nil
	}
	if objectName(o) == "" {
		return fmt.Errorf("metadata.name: Required value: name is required")
	}
	switch kind {
	case KindBGPConfiguration:
		var c BGPConfiguration
		return dec(&c)
	case KindBGPPeer:
		var p BGPPeer
		if err := dec(&p); err != nil {
			return err
		}
		if p.Spec.PeerIP != "" {
			if _, err := parsePeerIP(p.Spec.PeerIP); err != nil {
				return fmt.Errorf("spec.peerIP: Invalid value: %q: %v", p.Spec.PeerIP, err)
			}
		}
		if p.Spec.PeerIP == "" && p.Spec.PeerSelector == "" {
			return fmt.Errorf("spec.peerIP: Required value: peerIP or peerSelector must be set")
		}
		if p.Spec.Node != "" && p.Spec.NodeSelector != "" {
			return fmt.Errorf("spec.node: Invalid value: %q: node and nodeSelector are mutually exclusive", p.Spec.Node)
		}
		for _, s := range []struct{ field, sel string }{{"nodeSelector", p.Spec.NodeSelector}, {"peerSelector", p.Spec.PeerSelector}} {
			if s.sel != "" {
				if _, err := ParseCalicoSelector(s.sel); err != nil {
					return fmt.Errorf("spec.%s: Invalid value: %q: %v", s.field, s.sel, err)
				}
			}
		}
		return nil
	case KindCalicoNode:
		var n CalicoNode
		if err := dec(&n); err != nil {
			return err
		}
		if n.Spec.BGP != nil && n.Spec.BGP.IPv4Address != "" {
			if p, err := netip.ParsePrefix(n.Spec.BGP.IPv4Address); err != nil || !p.Addr().Is4() {
				return fmt.Errorf("spec.bgp.ipv4Address: Invalid value: %q: not an IPv4 address/length", n.Spec.BGP.IPv4Address)
			}
		}
		return nil
	case KindSecret:
		var s Secret
		return dec(&s)
	}
	return nil
}

// parsePeerIP reads a BGPPeer's peerIP: an IPv4 address, optionally
// with :port, as Calico accepts.
func parsePeerIP(s string) (netip.AddrPort, error) {
	if ap, err := netip.ParseAddrPort(s); err == nil && ap.Addr().Is4() {
		return ap, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return netip.AddrPort{}, fmt.Errorf("not an IPv4 address or address:port")
	}
	return netip.AddrPortFrom(a, 0), nil
}

// normalizeSecret turns a Secret's stringData into data, as the API
// server does on write.
func normalizeSecret(o obj) {
	sd, ok := o["stringData"].(map[string]any)
	if !ok {
		return
	}
	data, _ := o["data"].(map[string]any)
	if data == nil {
		data = obj{}
	}
	for k, v := range sd {
		if s, ok := v.(string); ok {
			data[k] = b64(s)
		}
	}
	o["data"] = data
	delete(o, "stringData")
	if _, ok := o["type"]; !ok {
		o["type"] = "Opaque"
	}
}

// b64 is s in standard base64, as Secret data is written.
func b64(s string) string {
	data, _ := json.Marshal([]byte(s))
	return strings.Trim(string(data), `"`)
}
