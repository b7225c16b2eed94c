package diagnose

// nameFromEvidence gives the unnamed node (the files given without a
// node folder) the host name its own evidence states, when it states
// exactly one and no other node has that name: a shell prompt
// ("root@mjs-api-dal10-a:~# calicoctl node status") or a Kubernetes
// Node's Hostname address. Findings then name the node, and its
// Kubernetes rows (INTERNAL-IP) can be matched to it. Evidence recorded
// for the unnamed node is relabelled with it.
func (c *Cluster) nameFromEvidence() {
	var unnamed *Node
	taken := map[string]bool{}
	for _, n := range c.Nodes {
		if n.Name == "" {
			unnamed = n
			continue
		}
		taken[n.Name] = true
	}
	if unnamed == nil {
		return
	}
	name := ""
	for _, h := range unnamed.Obs.Hostnames {
		switch {
		case h.Name == "" || h.Name == name:
		case name == "":
			name = h.Name
		default:
			return // several hosts: the files come from more than one
		}
	}
	if name == "" || taken[name] {
		return
	}
	unnamed.Name = name
	for i := range c.Evidence {
		if c.Evidence[i].Node == "" {
			c.Evidence[i].Node = name
		}
	}
	c.byName = nil
	c.dropIndex()
}
