// Package control is the control socket of a running lab. The process that
// owns a lab (`peerlab up`, detached or not) serves it on a Unix socket in
// the lab's folder; `peerlab status`, `fault` and `down`, run from other
// processes, call it. It speaks JSON-RPC (net/rpc/jsonrpc) for now; the gRPC
// API will take this role over.
package control
