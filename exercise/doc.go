// Package exercise runs peerlab's training exercises: a lab topology, steps
// that break one node the way a real cluster breaks (a wrong line in
// bird.cfg, a firewall rule, a squatter on port 179, a stopped nginx-proxy),
// a task text, graded hints, a reference solution and a check.
//
// The check looks only at the nodes' real state, read through `peerlab
// exec`: BIRD's own protocol table (every BGP protocol Established, as many
// as the topology has sessions), the node's files (the line that was wrong
// is right again) and commands that must succeed in the node's namespace
// (no nftables rule dropping 179, nginx answering). It never reads peerlab's
// fault log, so only repairing the cause passes it.
//
// Exercises live under topologies/exercises/NAME/ (topology.yaml and
// exercise.yaml; docs/exercises.md describes the format). Every step runs
// through a Runner, which the CLI and the tests implement by running the
// peerlab binary (`peerlab up -d`, `peerlab exec`, `peerlab down`).
package exercise
