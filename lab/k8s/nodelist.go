package k8s

import (
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"strconv"
)

// Annotations calico-node sets on its Kubernetes Node and the BGP mesh is
// built from.
const (
	// AnnotationIPv4Address is the node's BGP address with its prefix
	// length, "10.0.0.2/24".
	AnnotationIPv4Address = "projectcalico.org/IPv4Address"
	// AnnotationASNumber is the node's AS number when it is not the
	// cluster default.
	AnnotationASNumber = "projectcalico.org/ASNumber"
)

// DefaultASN is Calico's default AS number (BGPConfiguration asNumber).
const DefaultASN = 64512

// NodeInfo is what the lab's API server stand-in tells about one
// calico-node, and what the agent reads back.
type NodeInfo struct {
	// Name is the Kubernetes node name (the lab node name).
	Name string
	// Address is the node's BGP address with its prefix length.
	Address netip.Prefix
	// ASN is the node's AS number; 0 or DefaultASN mean the default.
	ASN uint32
}

// nodeList is the part of a Kubernetes v1 NodeList the stand-in serves.
type nodeList struct {
	Kind       string     `json:"kind"`
	APIVersion string     `json:"apiVersion"`
	Metadata   listMeta   `json:"metadata"`
	Items      []nodeItem `json:"items"`
}

type listMeta struct {
	ResourceVersion string `json:"resourceVersion"`
}

type nodeItem struct {
	Metadata objectMeta `json:"metadata"`
	Status   nodeStatus `json:"status"`
}

type objectMeta struct {
	Name        string            `json:"name"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

type nodeStatus struct {
	Addresses []nodeAddress `json:"addresses"`
}

type nodeAddress struct {
	Type    string `json:"type"`
	Address string `json:"address"`
}

// EncodeNodeList writes nodes as a Kubernetes v1 NodeList: each node's name,
// InternalIP and Hostname, and Calico's annotations.
func EncodeNodeList(w io.Writer, nodes []NodeInfo) error {
	l := nodeList{Kind: "NodeList", APIVersion: "v1", Metadata: listMeta{ResourceVersion: "1"}, Items: []nodeItem{}}
	for _, n := range nodes {
		ann := map[string]string{AnnotationIPv4Address: n.Address.String()}
		if n.ASN != 0 && n.ASN != DefaultASN {
			ann[AnnotationASNumber] = strconv.FormatUint(uint64(n.ASN), 10)
		}
		l.Items = append(l.Items, nodeItem{
			Metadata: objectMeta{
				Name:        n.Name,
				Labels:      map[string]string{"kubernetes.io/hostname": n.Name, "kubernetes.io/os": "linux"},
				Annotations: ann,
			},
			Status: nodeStatus{Addresses: []nodeAddress{
				{Type: "InternalIP", Address: n.Address.Addr().String()},
				{Type: "Hostname", Address: n.Name},
			}},
		})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(l); err != nil {
		return fmt.Errorf("encode node list: %w", err)
	}
	return nil
}

// DecodeNodeList reads a NodeList the way calico-node's confd does: a node
// takes part in the mesh when it has the IPv4Address annotation; its AS is
// the ASNumber annotation, else DefaultASN. Nodes without the annotation
// are left out.
func DecodeNodeList(r io.Reader) ([]NodeInfo, error) {
	var l nodeList
	if err := json.NewDecoder(r).Decode(&l); err != nil {
		return nil, fmt.Errorf("decode node list: %w", err)
	}
	if l.Kind != "NodeList" {
		return nil, fmt.Errorf("decode node list: kind is %q, not NodeList", l.Kind)
	}
	var out []NodeInfo
	for i, it := range l.Items {
		addr, ok := it.Metadata.Annotations[AnnotationIPv4Address]
		if !ok {
			continue
		}
		p, err := netip.ParsePrefix(addr)
		if err != nil || !p.Addr().Is4() {
			return nil, fmt.Errorf("decode node list: items[%d] (%s): annotation %s %q is not an IPv4 address/length", i, it.Metadata.Name, AnnotationIPv4Address, addr)
		}
		n := NodeInfo{Name: it.Metadata.Name, Address: p, ASN: DefaultASN}
		if s, ok := it.Metadata.Annotations[AnnotationASNumber]; ok {
			asn, err := strconv.ParseUint(s, 10, 32)
			if err != nil || asn == 0 {
				return nil, fmt.Errorf("decode node list: items[%d] (%s): annotation %s %q is not an AS number", i, it.Metadata.Name, AnnotationASNumber, s)
			}
			n.ASN = uint32(asn)
		}
		out = append(out, n)
	}
	return out, nil
}
