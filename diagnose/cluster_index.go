package diagnose

// clusterIndex holds the lookups the rules make over and over, computed
// once per cluster so a diagnosis stays linear in the number of nodes:
// addresses and kubectl rows to nodes, and every node's sessions.
type clusterIndex struct {
	// kubeRows are the `kubectl get nodes` rows deduplicated by name, in
	// the order they were first seen.
	kubeRows []KubeNode
	// kubeByName and kubeByIP find the first row with that name or
	// INTERNAL-IP.
	kubeByName map[string]KubeNode
	kubeByIP   map[string]KubeNode
	// kube is each node's kubectl row, when it has one.
	kube map[*Node]KubeNode
	// addrs are each node's addresses (Cluster.Addrs).
	addrs map[*Node][]string
	// byAddr is the first node (in Cluster.Nodes order) owning an address.
	byAddr map[string]*Node
	// manifests are every node's Calico manifests.
	manifests []CalicoManifest
	// order is each node's position in Cluster.Nodes.
	order map[*Node]int
	// bridgeAddrs are the addresses that a node's interface holding them
	// (its first, as Node.HasAddr finds it) is a container bridge.
	bridgeAddrs map[string]bool
	// peerSets are the nodes' neighbors, filled as the rules ask.
	peerSets map[*Node]*peerSet
}

// peerSet is what a node's own evidence says about whom it peers with.
type peerSet struct {
	// known: it has a bird.cfg or a named BGP protocol.
	known bool
	// neighbors are its bird.cfg neighbors and its sessions' peers.
	neighbors map[string]bool
	// cfgPeers finds its bird.cfg peers by neighbor address.
	cfgPeers map[string][]cfgPeerRef
	// remoteAS is, per bird.cfg, the AS the node presents to its peers.
	remoteAS []uint32
}

// cfgPeerRef is the index of a bird.cfg and of a peer in it.
type cfgPeerRef struct{ cfg, peer int }

// peerSetOf returns n's peer set, computing it on first use.
func (c *Cluster) peerSetOf(n *Node) *peerSet {
	ix := c.index()
	if ps, ok := ix.peerSets[n]; ok {
		return ps
	}
	ps := &peerSet{neighbors: map[string]bool{}, cfgPeers: map[string][]cfgPeerRef{}}
	for ci, cfg := range n.Obs.BirdConfigs {
		ps.known = true
		remote := cfg.LocalAS
		for pi, p := range cfg.Peers {
			ps.neighbors[p.Neighbor] = true
			ps.cfgPeers[p.Neighbor] = append(ps.cfgPeers[p.Neighbor], cfgPeerRef{ci, pi})
			if p.Source != "" && p.LocalAS != 0 {
				remote = p.LocalAS
			}
		}
		ps.remoteAS = append(ps.remoteAS, remote)
	}
	for _, s := range n.Sessions() {
		ps.known = ps.known || s.Protocol != ""
		ps.neighbors[s.Peer] = true
	}
	ix.peerSets[n] = ps
	return ps
}

// onBridge reports whether some node holds address a on a container
// bridge or overlay interface.
func (c *Cluster) onBridge(a string) bool {
	return c.index().bridgeAddrs[a]
}

// index returns the cluster's lookups, building them when the cluster
// changed since the last call. Cluster.Add and Cluster.NodeNamed drop
// them; a source that changes a node's Observations directly must do so
// before the first lookup (or call reindex).
func (c *Cluster) index() *clusterIndex {
	if c.idx == nil || c.idxNodes != len(c.Nodes) {
		c.reindex()
	}
	return c.idx
}

// reindex rebuilds the lookups from scratch, in time linear in the
// evidence.
func (c *Cluster) reindex() {
	ix := &clusterIndex{
		kubeByName:  map[string]KubeNode{},
		kubeByIP:    map[string]KubeNode{},
		kube:        make(map[*Node]KubeNode, len(c.Nodes)),
		addrs:       make(map[*Node][]string, len(c.Nodes)),
		byAddr:      make(map[string]*Node, 2*len(c.Nodes)),
		order:       make(map[*Node]int, len(c.Nodes)),
		bridgeAddrs: map[string]bool{},
		peerSets:    map[*Node]*peerSet{},
	}
	for i, n := range c.Nodes {
		ix.order[n] = i
		first := map[string]bool{}
		for _, it := range n.Obs.Interfaces {
			for _, p := range it.Prefixes {
				a := p.Addr().String()
				if !first[a] {
					first[a] = true
					ix.bridgeAddrs[a] = ix.bridgeAddrs[a] || bridgeInterface(it.Name)
				}
			}
		}
		for _, k := range n.Obs.KubeNodes {
			if _, seen := ix.kubeByName[k.Name]; seen {
				continue
			}
			ix.kubeByName[k.Name] = k
			ix.kubeRows = append(ix.kubeRows, k)
			if _, ok := ix.kubeByIP[k.InternalIP]; !ok {
				ix.kubeByIP[k.InternalIP] = k
			}
		}
		ix.manifests = append(ix.manifests, n.Obs.Manifests...)
	}
	for _, n := range c.Nodes {
		own := n.ownAddrs()
		k, ok := KubeNode{}, false
		if n.Name != "" {
			k, ok = ix.kubeByName[n.Name]
		}
		for i := 0; !ok && i < len(own); i++ {
			k, ok = ix.kubeByIP[own[i]]
		}
		addrs := own
		if ok {
			ix.kube[n] = k
			addrs = appendUnique(addrs, k.InternalIP)
		}
		ix.addrs[n] = addrs
		for _, a := range addrs {
			if _, taken := ix.byAddr[a]; !taken {
				ix.byAddr[a] = n
			}
		}
	}
	c.idx, c.idxNodes = ix, len(c.Nodes)
}

// nodeOrder is n's position in Nodes (-1 when it is not one of them).
func (c *Cluster) nodeOrder(n *Node) int {
	if i, ok := c.index().order[n]; ok {
		return i
	}
	return -1
}

// dropIndex forgets the lookups after the cluster changed.
func (c *Cluster) dropIndex() {
	c.idx = nil
}
