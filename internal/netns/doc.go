// Package netns builds and tears down network-namespace labs: one Linux
// network namespace per node, wired to a per-lab bridge, without touching
// the host's own network namespace and without shelling out to ip(8).
//
// # Layout of a lab
//
// A lab named L with nodes N1..Nk is made of:
//
//   - a hub namespace plab-L, bind-mounted at /run/netns/plab-L like
//     `ip netns add` does, holding one Linux bridge br0;
//   - one namespace per node, plab-L--N (a hash replaces the tail of N when the
//     name would pass 64 bytes), with lo up, eth0 up and the node's addresses;
//   - one veth pair per node: eth0 inside the node namespace, v<8 hex of a
//     hash of (L, N)> inside the hub namespace, enslaved to br0;
//   - one veth pair per explicit point-to-point link, each end created
//     directly in its node's namespace and named p-<peer> (truncated, with a
//     hash, when it would not fit the 15 bytes Linux allows).
//
// Every veth is created with netlink in the hub or node namespace with its
// peer placed straight into the other namespace, so no interface ever
// exists in the host namespace, not even for a moment: a process killed at
// any point can leak nothing there. The lab name is part of every
// namespace name, so [Clean] finds everything a lab made from the names in
// /run/netns alone, after a SIGKILL at any moment, [List] reports the
// labs present on the host, and [Open] reattaches to a lab that another
// process made. The two dashes between lab and node keep lab
// "calico" from matching the namespaces of lab "calico-mesh": lab names may
// not contain "--" nor end with "-".
//
// # Threads
//
// A Linux network namespace belongs to an OS thread, not to a goroutine.
// Everything here that switches namespace does it on a fresh goroutine
// locked to its OS thread, and switches back before unlocking; if switching
// back fails the goroutine exits still locked, which makes the Go runtime
// throw the tainted thread away. Sockets keep the namespace they were
// created in, so [Lab.DialIn], [Lab.ListenIn] and [Lab.ListenPacketIn] return
// ordinary net.Conn and net.Listener values usable from any goroutine.
// [Lab.StartProcess] forks from a thread switched into the node namespace,
// so the child starts inside it.
//
// Creating and destroying labs needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN).
package netns
