// Package netfault applies and heals network faults inside the network
// namespace of a lab node: BGP packets dropped, rejected with a TCP reset or
// with ICMP admin-prohibited, BGP sessions source-NATed to an unexpected
// address, the node's link taken down, and delay (a netem qdisc) or loss
// (an nftables rule) added by the netem fault.
//
// Every fault implements [Fault] and acts on a [Target]: the path of the
// node's namespace (see internal/netns, Lab.NamespacePath), the node's
// address, an optional peer, and the BGP port. Nothing is shelled out:
// firewall rules go through nftables netlink (github.com/google/nftables),
// links and qdiscs through rtnetlink (github.com/vishvananda/netlink), both
// opened inside the target namespace, so the host's own namespace is never
// touched.
//
// # nftables layout
//
// All rules live in tables named "peerlab" ([TableName]) in the node's
// namespace: family inet for the filter faults and netem's loss rule, and
// family ip (or ip6) for the NAT fault. Each fault owns its own base chains, named
// "<fault>-<hook>" (for example "tcp179-drop-input"), and tags each rule
// with the comment "peerlab:<fault>", so `nft list ruleset` shows who put a
// rule there. Heal deletes exactly that fault's chains, so faults coexist
// and heal independently; the table itself is deleted once its last chain
// is gone. [Clean] deletes every peerlab table of a namespace at once.
//
// # Inject and Heal semantics
//
// Inject of a fault already present on the target returns an error wrapping
// [ErrAlreadyInjected] and changes nothing: a fault instance is either on
// or off, never stacked. Heal of a fault that is not present is a no-op and
// returns nil. Presence is read from the kernel (chains, link alias, qdisc
// handle), not from memory, so a fault injected by one process can be
// healed by another.
//
// Injecting and healing needs CAP_NET_ADMIN in the target namespace
// (root, in practice).
package netfault
