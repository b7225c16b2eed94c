package lab

import (
	"context"
	"errors"
	"net/netip"
	"os/exec"
	"time"

	"go.uber.org/zap"

	"github.com/peerlab/peerlab/lab/topology"
)

// Node is one running lab node, whatever its kind.
type Node interface {
	// Start brings the node up with its sessions configured and its
	// prefixes announced. It returns once the daemon accepts work.
	Start(ctx context.Context) error
	// Stop tears the node down; it is safe to call more than once.
	Stop() error
	// Sessions reports the node's view of each of its sessions.
	Sessions(ctx context.Context) ([]SessionStatus, error)
	// HasRoute reports whether prefix is among the node's best paths.
	HasRoute(ctx context.Context, prefix netip.Prefix) (bool, error)
}

// EventSource is implemented by nodes that push session state changes as
// they happen, rather than only answering Sessions.
type EventSource interface {
	// Subscribe calls fn for every state change until the returned
	// function is called.
	Subscribe(fn func(SessionEvent)) (unsubscribe func())
}

// SessionStatus is one end's view of a session.
type SessionStatus struct {
	// Local and Remote are node names.
	Local, Remote string
	// State is the BGP FSM state as the daemon names it (Established, Active …).
	State string
	// LastError is why the session last went down or failed to come up.
	LastError string
	// Notification is the last NOTIFICATION sent or received, nil for none.
	Notification *Notification
}

// Established reports whether the status is the Established state.
func (s SessionStatus) Established() bool { return s.State == "Established" }

// SessionEvent is a state change seen by one end of a session.
type SessionEvent struct {
	Time          time.Time
	Local, Remote string
	From, To      string
	Reason        string
	Notification  *Notification
}

// NodeSpec is everything a kind needs to build one node.
type NodeSpec struct {
	Node *topology.Node
	// Topology is the whole lab, for peers' attributes.
	Topology *topology.Topology
	// Sessions are the sessions the node is an end of.
	Sessions []*topology.Session
	// Bind maps a node name to the address it really binds (its lab
	// address in namespace mode, a 127.x.y.z address in loopback mode).
	Bind func(node string) netip.Addr
	// Port is the BGP port every node of the lab listens on.
	Port int
	// Logger is already scoped to the node.
	Logger *zap.Logger
	// Namespace is the node's network namespace in namespace mode, nil in
	// loopback mode (where every node shares the host's).
	Namespace Namespace
	// Dir is the node's own folder in the lab's state folder: its file
	// root (configs, control sockets, logs). It exists when New is called.
	Dir string
	// AgentExe is the program a gobgp node runs its agent from in
	// namespace mode, picked once per lab (agentExecutable); "" picks it
	// when the node starts.
	AgentExe string
}

// Namespace is what a kind may do with its node's network namespace in
// namespace mode.
type Namespace interface {
	// Path is the namespace's file, /run/netns/NAME.
	Path() string
	// StartProcess starts cmd (as cmd.Start does) inside the node: in its
	// network namespace and, in namespace mode, its mount, UTS and PID
	// namespaces, where it sees the node's files at their real paths
	// (nodehost.go). cmd must not set Pdeathsig.
	StartProcess(cmd *exec.Cmd) error
	// Do runs fn on an OS thread switched into the network namespace only.
	Do(fn func() error) error
}

// HostStarter is a Namespace that can start a program as the host of its
// node (PID 1 of the node's PID namespace, which sets the node up itself):
// a gobgp node's agent is, as gobgpd is PID 1 of a router container. The
// caller waits for cmd and then calls exited. It returns ErrNoHost when
// the namespace has no node host to give (a bare network namespace).
type HostStarter interface {
	StartHost(cmd *exec.Cmd) (exited func(), err error)
}

// ErrNoHost is returned by HostStarter.StartHost for a namespace whose
// nodes are not hosts.
var ErrNoHost = errors.New("namespace has no node host")
