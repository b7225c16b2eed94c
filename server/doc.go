// Package server implements peerlab's gRPC API (proto/peerlab/v1).
//
// Two halves cooperate. A Host serves one running lab from inside the
// process that owns it (`peerlab lab-host`, started by the server): the
// speaker, fault, capture and watch calls act on the *lab.Lab directly.
// A Manager is what `peerlab serve` exposes: a registry of labs, each
// hosted by its own child process, to which it proxies every per-lab call.
// A crash inside one lab (a panic in GoBGP parsing a hostile UPDATE, say)
// kills only that child; the Manager reports the lab FAILED with the exit
// reason and keeps serving the others.
//
// Errors are mapped to gRPC status codes here and only here (status.go).
package server
