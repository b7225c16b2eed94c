// Package lab brings a validated topology up, watches its sessions, checks its
// expectations and tears it down.
//
// A lab is a set of nodes, each started by a node kind taken from a Registry
// (see kinds.go for the one place kinds are wired). In loopback mode, the
// default when no node needs root, every node binds its own 127.x.y.z address
// on a shared high port, so several labs run side by side on one host without
// privileges. The address block and the lab name are claimed with lock files
// in the state folder, so two labs never collide.
package lab
