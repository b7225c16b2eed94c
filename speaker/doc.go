// Package speaker runs embedded BGP speakers for peerlab labs.
//
// A Speaker wraps one GoBGP v4 server (github.com/osrg/gobgp/v4/pkg/server)
// and gives it the small, typed API a lab needs: configure neighbors
// (iBGP/eBGP, route-reflector clients, TCP MD5, passive mode, GTSM,
// multihop, IPv4 and IPv6 unicast), announce and withdraw prefixes in bulk,
// read the loc-RIB and the Adj-RIB-In/Out of a neighbor, and follow session
// state. Session state changes arrive as Events, and every NOTIFICATION that
// tore a session down is decoded into a Notification with the RFC 4271 code
// and subcode names, so a lab can tell "OPEN Message Error / Bad Peer AS"
// from a hold-timer expiry without reading logs.
//
// Many speakers live in one process (the lab harness runs hundreds of them,
// each bound to its own 127.x.y.z address): a Speaker holds no package-level
// mutable state and logs through the *zap.Logger it is given, with GoBGP's
// own slog output bridged into it.
//
// Lifecycle: New validates the configuration and creates the GoBGP server,
// Start serves it (listener, event watcher), AddPeer/Announce/... drive it,
// and Close stops everything it started. Close must be called even when
// Start was not, because GoBGP starts a goroutine when the server is made.
package speaker
