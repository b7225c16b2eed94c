package diagnose

import (
	"net/netip"
	"strings"
)

// nodeAddressesYAML recognises the address lists of a node's resources
// as `kubectl get node -o yaml` and `calicoctl get node -o yaml` print
// them, whole or cut to the list:
//
//   - address: 10.72.70.21          (Kubernetes Node status.addresses)
//     type: InternalIP
//
//   - address: sf02
//     type: Hostname
//
//     spec:                             (Calico Node)
//     addresses:
//
//   - address: 10.72.70.20/31
//     type: CalicoNodeIP
//     bgp:
//     ipv4Address: 10.72.70.20/31
//
// A Hostname with an InternalIP or ExternalIP becomes a Kubernetes node
// row and names the host; the Calico Node's bgp.ipv4Address (else its
// CalicoNodeIP) is the address Calico gave the node.
type nodeAddressesYAML struct{}

func (nodeAddressesYAML) Kind() string { return "node-addresses-yaml" }
func (nodeAddressesYAML) Whole() bool  { return true }

func (nodeAddressesYAML) Recognize(source string, data []byte) (Observations, []string, bool) {
	var (
		obs      Observations
		lines    []string
		kn       KubeNode
		knLines  []Line
		calicoIP NodeAddr
		bgpIP    NodeAddr
		pending  string // the address of the "- address:" item being read
		pendLine Line
	)
	for _, l := range splitLines(data) {
		t := strings.TrimSpace(l)
		if v, ok := yamlField(strings.TrimPrefix(t, "- "), "address"); ok && strings.HasPrefix(t, "- ") {
			pending, pendLine = v, Line{source, t}
			continue
		}
		if v, ok := yamlField(t, "type"); ok && pending != "" {
			item := pendLine
			switch v {
			case "InternalIP":
				if kn.InternalIP == "" {
					kn.InternalIP = pending
					kn.Line = item
				}
			case "ExternalIP":
				if kn.ExternalIP == "" {
					kn.ExternalIP = pending
				}
			case "Hostname":
				kn.Name = pending
			case "CalicoNodeIP":
				if na, ok := nodeAddrOf(pending, item); ok {
					calicoIP = na
				}
			default:
				pending = ""
				continue
			}
			knLines = append(knLines, item)
			lines = append(lines, pendLine.Text, t)
			pending = ""
			continue
		}
		if v, ok := yamlField(t, "ipv4Address"); ok {
			if na, ok := nodeAddrOf(v, Line{source, t}); ok {
				bgpIP = na
				lines = append(lines, t)
			}
		}
	}
	if len(lines) == 0 {
		return Observations{}, nil, false
	}
	if kn.Name != "" && (kn.InternalIP != "" || kn.ExternalIP != "") {
		if kn.Line.Text == "" {
			kn.Line = knLines[0]
		}
		obs.KubeNodes = append(obs.KubeNodes, kn)
		obs.Hostnames = append(obs.Hostnames, HostnameObs{kn.Name, knLines[len(knLines)-1]})
	}
	switch {
	case bgpIP.Addr != "":
		obs.NodeAddrs = append(obs.NodeAddrs, bgpIP)
	case calicoIP.Addr != "":
		obs.NodeAddrs = append(obs.NodeAddrs, calicoIP)
	}
	if len(obs.KubeNodes) == 0 && len(obs.NodeAddrs) == 0 {
		return Observations{}, nil, false
	}
	return obs, lines, true
}

// yamlField returns the value of "key: value" (quotes removed).
func yamlField(t, key string) (string, bool) {
	v, ok := strings.CutPrefix(t, key+":")
	if !ok {
		return "", false
	}
	v = strings.Trim(strings.TrimSpace(v), `"'`)
	return v, v != ""
}

// nodeAddrOf reads "10.72.70.20/31" or "10.72.70.20" as an address
// Calico's node resource holds.
func nodeAddrOf(v string, l Line) (NodeAddr, bool) {
	na := NodeAddr{How: "node-resource", Line: l}
	if p, err := netip.ParsePrefix(v); err == nil {
		na.Addr, na.Prefix = p.Addr().String(), p
		return na, true
	}
	if a, ok := parseAddr(v); ok {
		na.Addr = a.String()
		return na, true
	}
	return na, false
}
