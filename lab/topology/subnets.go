package topology

import "net/netip"

// subnetIndex finds, among the prefixes added so far, the earliest added
// one that overlaps a given prefix (holds it or lies inside it), in time
// proportional to the prefix length: a binary trie per address family
// whose nodes remember the first prefix ending there and the first one
// passing through. The link checks use it so that many links are checked
// in linear time rather than against every earlier link.
type subnetIndex struct {
	nodes []trieNode // nodes[0] is the IPv4 root, nodes[1] the IPv6 root
}

type trieNode struct {
	child [2]int32
	exact int32 // first prefix ending here, or -1
	first int32 // first prefix ending here or below, or -1
}

func newSubnetIndex() *subnetIndex {
	return &subnetIndex{nodes: []trieNode{emptyTrieNode(), emptyTrieNode()}}
}

func emptyTrieNode() trieNode { return trieNode{exact: -1, first: -1} }

// prefixBits returns the root of p's family and p's address bytes.
func prefixBits(p netip.Prefix) (root int32, bytes []byte) {
	if p.Addr().Is4() {
		a := p.Masked().Addr().As4()
		return 0, a[:]
	}
	a := p.Masked().Addr().As16()
	return 1, a[:]
}

func bit(b []byte, i int) int { return int(b[i/8]>>(7-i%8)) & 1 }

// add records prefix id; ids must grow with every call.
func (x *subnetIndex) add(id int, p netip.Prefix) {
	cur, b := prefixBits(p)
	for d := 0; ; d++ {
		n := &x.nodes[cur]
		if n.first < 0 {
			n.first = int32(id)
		}
		if d == p.Bits() {
			if n.exact < 0 {
				n.exact = int32(id)
			}
			return
		}
		next := n.child[bit(b, d)]
		if next == 0 {
			next = int32(len(x.nodes))
			x.nodes[cur].child[bit(b, d)] = next
			x.nodes = append(x.nodes, emptyTrieNode())
		}
		cur = next
	}
}

// first returns the earliest prefix overlapping p, or -1.
func (x *subnetIndex) first(p netip.Prefix) int {
	best := int32(-1)
	better := func(id int32) {
		if id >= 0 && (best < 0 || id < best) {
			best = id
		}
	}
	cur, b := prefixBits(p)
	for d := 0; ; d++ {
		n := x.nodes[cur]
		if d == p.Bits() {
			better(n.first) // p itself and the prefixes inside it
			return int(best)
		}
		better(n.exact) // a shorter prefix holding p
		if cur = n.child[bit(b, d)]; cur == 0 {
			return int(best)
		}
	}
}
