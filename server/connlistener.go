package server

import (
	"net"
	"sync"
)

// trackingListener remembers the connections it accepted so that a
// shutdown can close them all, including those still in their gRPC
// handshake: grpc.Server.Stop waits for those (up to the connection
// timeout, 120 s), so an idle client that never spoke would hold a lab's
// tear-down up.
type trackingListener struct {
	net.Listener

	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

// trackConns wraps ln.
func trackConns(ln net.Listener) *trackingListener {
	return &trackingListener{Listener: ln, conns: map[net.Conn]struct{}{}}
}

// Accept accepts and remembers one connection.
func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, l: l}
	l.mu.Lock()
	l.conns[tc] = struct{}{}
	l.mu.Unlock()
	return tc, nil
}

// closeAll closes every connection still open.
func (l *trackingListener) closeAll() {
	l.mu.Lock()
	conns := l.conns
	l.conns = map[net.Conn]struct{}{}
	l.mu.Unlock()
	for c := range conns {
		c.Close()
	}
}

// trackedConn forgets itself when closed.
type trackedConn struct {
	net.Conn
	l    *trackingListener
	once sync.Once
}

// Close closes the connection and forgets it.
func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.l.mu.Lock()
		delete(c.l.conns, c)
		c.l.mu.Unlock()
	})
	return c.Conn.Close()
}
