package bird

import (
	"embed"
	"fmt"
	"io"
	"net/netip"
	"sync"
	"text/template"
)

//go:embed templates/*.tmpl
var templateFS embed.FS

// templates holds the parsed templates, parsed on first use (not when the
// binary starts); parsing embedded constants cannot fail at run time once
// the tests pass, and the value is never mutated.
var templates = sync.OnceValue(func() *template.Template {
	return template.Must(template.ParseFS(templateFS, "templates/*.tmpl"))
})

// renderData is what the templates see.
type renderData struct {
	Config
	Mesh, Global, Node []peerData
}

// ExportPools are the prefixes whose routes go to BGP peers: the IP pools,
// or the node's own blocks when no pool is given.
func (d renderData) ExportPools() []netip.Prefix {
	if len(d.Pools) > 0 {
		return d.Pools
	}
	return d.Prefixes
}

// peerData is one peer with everything the template needs precomputed.
type peerData struct {
	Peer          Peer
	ProtocolName  string
	NodeIP        string
	ASN           uint32
	ListenPort    uint16
	ListenPortSet bool
	PortSet       bool
	Mesh          bool
	Passive       bool
	Bird2         bool
}

// RenderConfig writes the BIRD configuration for c in the layout of Calico's
// confd templates (bird.cfg.template, bird_aggr.cfg.template,
// bird_ipam.cfg.template) for BIRD 1.6 (Bird1) or BIRD 2 (Bird2).
//
// Peers become `protocol bgp Mesh_a_b_c_d|Node_…|Global_… from bgp_template`.
// A mesh peer gets "ttl security off; multihop;" and, by Calico's rule,
// "passive on" when the peer's address is greater than this node's (Calico
// compares the strings), so exactly one side of each mesh pair connects.
// The kernel protocol exports nothing unless c.KernelExport is set.
func RenderConfig(w io.Writer, c Config, v Version) error {
	if err := c.Validate(); err != nil {
		return err
	}
	c = c.withDefaults()
	var name string
	switch v {
	case Bird1:
		name = "bird1.cfg.tmpl"
	case Bird2:
		name = "bird2.cfg.tmpl"
	default:
		return fmt.Errorf("bird: render config: unknown version %d", int(v))
	}
	d := renderData{Config: c}
	for _, p := range c.Peers {
		pd := peerData{
			Peer:          p,
			ProtocolName:  protocolName(p),
			NodeIP:        c.NodeIP.String(),
			ASN:           c.ASN,
			ListenPort:    c.ListenPort,
			ListenPortSet: c.ListenPort != DefaultPort,
			PortSet:       p.Port != 0 && p.Port != DefaultPort,
			Mesh:          p.Kind == KindMesh,
			Passive:       p.Passive || (p.Kind == KindMesh && meshPassive(c.NodeIP, p.Address)),
			Bird2:         v == Bird2,
		}
		switch p.Kind {
		case KindMesh:
			d.Mesh = append(d.Mesh, pd)
		case KindGlobal:
			d.Global = append(d.Global, pd)
		case KindNode:
			d.Node = append(d.Node, pd)
		}
	}
	if err := templates().ExecuteTemplate(w, name, d); err != nil {
		return fmt.Errorf("bird: render %s config: %w", v, err)
	}
	return nil
}
