package netns

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os/exec"
	"syscall"

	"github.com/vishvananda/netns"
)

// Do runs fn on an OS thread switched into node's namespace, on its own
// goroutine, and waits for it. Anything fn creates that belongs to a
// namespace (sockets, interfaces through netlink, child processes) is made
// in node's. Goroutines fn starts do NOT run in the namespace. fn must not
// call [Lab.Destroy].
func (l *Lab) Do(node string, fn func() error) error {
	n, err := l.node(node)
	if err != nil {
		return err
	}
	defer l.mu.RUnlock()
	if err := inNamespace(n.h.fd, fn); err != nil {
		return fmt.Errorf("lab %s: node %s: %w", l.name, node, err)
	}
	return nil
}

// StartOption changes how [Lab.StartProcess] starts a process.
type StartOption func(*startConfig)

type startConfig struct {
	dieWithParent bool
}

// DieWithParent makes the kernel SIGKILL the process when the thread that
// started it exits, which is normally when this process exits. Without it
// a process outlives the lab's creator, as detached labs need; [Clean]
// kills it when its namespace goes.
func DieWithParent() StartOption {
	return func(c *startConfig) { c.dieWithParent = true }
}

// StartProcess starts cmd (as cmd.Start does) inside node's network
// namespace: it forks from an OS thread switched into the namespace, and
// the child inherits the thread's namespace. Only the network namespace is
// changed; the mount namespace, and so the files the child sees, stay the
// host's. The caller waits for cmd as usual.
func (l *Lab) StartProcess(node string, cmd *exec.Cmd, opts ...StartOption) error {
	var cfg startConfig
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.dieWithParent {
		if cmd.SysProcAttr == nil {
			cmd.SysProcAttr = &syscall.SysProcAttr{}
		}
		cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	}
	if err := l.Do(node, cmd.Start); err != nil {
		return fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	return nil
}

// DialIn connects to address from inside node's namespace. address must be
// a literal IP and port ("10.0.0.2:179", "[fd00::2]:179"): resolving a name
// could dial from several goroutines, outside the namespace. The
// connection keeps the namespace it was made in.
func (l *Lab) DialIn(ctx context.Context, node, network, address string) (net.Conn, error) {
	if _, err := netip.ParseAddrPort(address); err != nil {
		return nil, fmt.Errorf("lab %s: node %s: dial %s: need a literal ip:port: %w", l.name, node, address, err)
	}
	var conn net.Conn
	err := l.Do(node, func() (err error) {
		var d net.Dialer
		conn, err = d.DialContext(ctx, network, address)
		return err
	})
	return conn, err
}

// ListenIn opens a stream listener (tcp, tcp4, tcp6, unix) inside node's
// namespace, e.g. ListenIn("r1", "tcp", "10.0.0.1:179"). The listener,
// and every connection it accepts, stays in that namespace.
func (l *Lab) ListenIn(node, network, address string) (net.Listener, error) {
	var ln net.Listener
	err := l.Do(node, func() (err error) {
		ln, err = net.Listen(network, address)
		return err
	})
	return ln, err
}

// ListenPacketIn opens a packet socket (udp, udp4, udp6, ip:…) inside
// node's namespace.
func (l *Lab) ListenPacketIn(node, network, address string) (net.PacketConn, error) {
	var pc net.PacketConn
	err := l.Do(node, func() (err error) {
		pc, err = net.ListenPacket(network, address)
		return err
	})
	return pc, err
}

// SetLinkState sets interface ifname of node up or down, e.g. eth0 to cut
// a node off the lab bridge, or a point-to-point link's end.
func (l *Lab) SetLinkState(node, ifname string, up bool) error {
	n, err := l.node(node)
	if err != nil {
		return err
	}
	defer l.mu.RUnlock()
	link, err := n.h.nl.LinkByName(ifname)
	if err != nil {
		return fmt.Errorf("lab %s: node %s: find %s: %w", l.name, node, ifname, err)
	}
	if up {
		err = n.h.nl.LinkSetUp(link)
	} else {
		err = n.h.nl.LinkSetDown(link)
	}
	if err != nil {
		return fmt.Errorf("lab %s: node %s: set %s up=%t: %w", l.name, node, ifname, up, err)
	}
	return nil
}

// StartProcessAt starts cmd inside the network namespace whose file is
// nsPath (for example /run/netns/plab-lab--r1), for callers that hold no
// *Lab, such as `peerlab exec` run from another process than the lab's.
func StartProcessAt(nsPath string, cmd *exec.Cmd) error {
	h, err := netns.GetFromPath(nsPath)
	if err != nil {
		return fmt.Errorf("open namespace %s: %w", nsPath, err)
	}
	defer h.Close()
	if err := inNamespace(h, cmd.Start); err != nil {
		return fmt.Errorf("start %s in %s: %w", cmd.Path, nsPath, err)
	}
	return nil
}

// NamespacePathOf is the file of a lab node's namespace.
func NamespacePathOf(lab, node string) string { return nsPath(NodeNamespace(lab, node)) }
