// Package agent is the control protocol between a lab and a child process
// hosting one embedded GoBGP speaker.
//
// In namespace mode every gobgp node runs in its own network namespace.
// A namespace belongs to an OS thread and GoBGP opens its sockets from
// goroutines of its own, so a speaker cannot live in a node's namespace
// inside the lab process. Instead the lab starts one child per gobgp node
// (`peerlab agent --socket PATH`) inside the node's namespace; the child
// hosts the speaker and serves this protocol on a Unix socket, which the lab
// reaches from the host namespace because socket files are not
// network-namespaced.
//
// The protocol is net/rpc with the JSON-RPC 1.0 codec (net/rpc/jsonrpc),
// one service named [ServiceName]. Its surface mirrors the speaker's:
// Start, Restart (a new speaker, for settings such as the router id that
// GoBGP fixes at start), AddPeer, DeletePeer, ResetPeer, Announce,
// Withdraw, Peers, RIB, a long-polled Events and Close, which closes the
// speaker and makes [Serve] return so the child exits. The types are the
// speaker's own plain structs (netip values travel as JSON text); only the
// speaker's Logger stays behind ([StartConfig] is speaker.Config without
// it).
//
// [Serve] is the server side, [Run] the whole child (listen, serve, clean
// up), [Client] the lab's side.
package agent
