package diagnose

import (
	"bytes"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"
)

// calicoResourcesYAML recognises Calico's BGP resources as `kubectl get
// bgpconfigurations,bgppeers,nodes.crd.projectcalico.org -o yaml` and
// `calicoctl get ... -o yaml` print them (and as `peerlab diagnose
// --kubeconfig` saves them): one resource, a List (kind: List,
// BGPPeerList, ...) or several YAML documents, of apiVersion
// projectcalico.org/v3 or crd.projectcalico.org/v1. A Calico Node's
// addresses are read as nodeAddressesYAML reads them too.
type calicoResourcesYAML struct{}

func (calicoResourcesYAML) Kind() string { return "calico-resources-yaml" }
func (calicoResourcesYAML) Whole() bool  { return true }

// calicoObject is the part of a Calico resource the rules read.
type calicoObject struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name   string            `json:"name"`
		Labels map[string]string `json:"labels"`
	} `json:"metadata"`
	Spec struct {
		// BGPConfiguration
		NodeToNodeMeshEnabled *bool   `json:"nodeToNodeMeshEnabled"`
		ASNumber              *json32 `json:"asNumber"`
		ListenPort            *json32 `json:"listenPort"`
		// BGPPeer
		Node         string `json:"node"`
		PeerIP       string `json:"peerIP"`
		NodeSelector string `json:"nodeSelector"`
		PeerSelector string `json:"peerSelector"`
		// Node
		BGP *struct {
			ASNumber                *json32 `json:"asNumber"`
			IPv4Address             string  `json:"ipv4Address"`
			RouteReflectorClusterID string  `json:"routeReflectorClusterID"`
		} `json:"bgp"`
	} `json:"spec"`
	Items []calicoObject `json:"items"`
}

// json32 is a number YAML may also give as a string ("64512").
type json32 uint32

func (j *json32) UnmarshalJSON(b []byte) error {
	v, err := strconv.ParseUint(strings.Trim(string(b), `"`), 10, 32)
	if err != nil {
		return err
	}
	*j = json32(v)
	return nil
}

func (calicoResourcesYAML) Recognize(source string, data []byte) (Observations, []string, bool) {
	if !bytes.Contains(data, []byte("projectcalico.org/")) {
		return Observations{}, nil, false
	}
	text := splitLines(data)
	var (
		obs      Observations
		quoted   []string
		cursor   int
		anyNode  bool
		anyFound bool
	)
	// fieldLine returns the first line at or after from whose trimmed
	// text starts with key+":" and is within the resource (before the next
	// "name:" of the same indentation is not tracked: resources are
	// printed one after the other, so the search stops at the next
	// resource's apiVersion).
	fieldLine := func(from int, key string) Line {
		for i := from; i < len(text); i++ {
			t := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(text[i]), "- "))
			if i > from && strings.HasPrefix(t, "apiVersion:") {
				break
			}
			if strings.HasPrefix(t, key+":") {
				quoted = append(quoted, strings.TrimSpace(text[i]))
				return Line{source, strings.TrimSpace(text[i])}
			}
		}
		return Line{}
	}
	var visit func(o calicoObject)
	visit = func(o calicoObject) {
		for _, it := range o.Items {
			visit(it)
		}
		if !strings.Contains(o.APIVersion, "projectcalico.org/") || o.Metadata.Name == "" {
			return
		}
		// The resource starts at its "name: X" line, searched from the
		// previous resource on; its spec fields follow.
		start := cursor
		for i := cursor; i < len(text); i++ {
			if t := strings.TrimSpace(text[i]); t == "name: "+o.Metadata.Name || t == `name: "`+o.Metadata.Name+`"` {
				start = i
				break
			}
		}
		cursor = start + 1
		nameLine := Line{source, strings.TrimSpace(text[min(start, len(text)-1)])}
		s := o.Spec
		switch o.Kind {
		case "BGPConfiguration":
			bc := CalicoBGPConfiguration{Name: o.Metadata.Name, Line: nameLine, MeshEnabled: s.NodeToNodeMeshEnabled}
			if s.ASNumber != nil {
				bc.ASNumber = uint32(*s.ASNumber)
			}
			if s.ListenPort != nil {
				bc.ListenPort = uint32(*s.ListenPort)
				bc.PortLine = fieldLine(start, "listenPort")
			}
			if s.NodeToNodeMeshEnabled != nil {
				bc.MeshLine = fieldLine(start, "nodeToNodeMeshEnabled")
			}
			obs.BGPConfigurations = append(obs.BGPConfigurations, bc)
		case "BGPPeer":
			bp := CalicoBGPPeer{Name: o.Metadata.Name, Line: nameLine, Node: s.Node, PeerIP: s.PeerIP,
				NodeSelector: s.NodeSelector, PeerSelector: s.PeerSelector}
			if s.ASNumber != nil {
				bp.ASNumber = uint32(*s.ASNumber)
				bp.ASLine = fieldLine(start, "asNumber")
			}
			if s.PeerSelector != "" {
				bp.SelectorLine = fieldLine(start, "peerSelector")
			}
			obs.BGPPeers = append(obs.BGPPeers, bp)
		case "Node":
			cn := CalicoNodeRes{Name: o.Metadata.Name, Line: nameLine, Labels: o.Metadata.Labels}
			if b := s.BGP; b != nil {
				if b.ASNumber != nil {
					cn.ASNumber = uint32(*b.ASNumber)
				}
				cn.IPv4Address = b.IPv4Address
				cn.ClusterID = b.RouteReflectorClusterID
				if cn.ClusterID != "" {
					cn.ClusterIDLine = fieldLine(start, "routeReflectorClusterID")
				}
			}
			obs.CalicoNodes = append(obs.CalicoNodes, cn)
			anyNode = true
		default:
			return
		}
		anyFound = true
		quoted = append(quoted, nameLine.Text)
	}
	for _, doc := range splitYAMLDocs(data) {
		var o calicoObject
		if err := yaml.Unmarshal(doc, &o); err != nil {
			continue
		}
		visit(o)
	}
	if !anyFound {
		return Observations{}, nil, false
	}
	if anyNode {
		if na, lines, ok := (nodeAddressesYAML{}).Recognize(source, data); ok {
			obs.merge(na)
			quoted = append(quoted, lines...)
		}
	}
	return obs, quoted, true
}

// splitYAMLDocs splits a multi-document YAML text on its "---" lines.
func splitYAMLDocs(data []byte) [][]byte {
	var (
		out [][]byte
		cur []string
	)
	for _, l := range splitLines(data) {
		if strings.TrimSpace(l) == "---" {
			out = append(out, []byte(strings.Join(cur, "\n")))
			cur = nil
			continue
		}
		cur = append(cur, l)
	}
	return append(out, []byte(strings.Join(cur, "\n")))
}
