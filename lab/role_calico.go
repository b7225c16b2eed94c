package lab

import (
	"cmp"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/peerlab/peerlab/internal/bird"
	"github.com/peerlab/peerlab/lab/k8s"
	"github.com/peerlab/peerlab/lab/topology"
)

// calicoNode is the calico-node of a BIRD node: its confd-like agent (a
// goroutine of the lab process) reading the node list from the API
// server with requests dialled inside the node's namespace, and the
// readiness log. Files under the node's folder:
//
//	etc/calico/confd/config/bird.cfg  what confd rendered (BIRD runs a copy)
//	var/lib/calico/nodename           the node name; its mtime is when
//	                                  calico-node started (readiness grace)
//	var/log/calico/confd.log          the agent's log
//	var/log/calico/readiness.log      readiness verdicts, on each change
type calicoNode struct {
	bird   *birdNode
	server string
	client *http.Client
	topo   *topology.Topology
	log    *zap.Logger

	mu       sync.Mutex
	started  time.Time
	agent    *k8s.Agent
	cancel   context.CancelFunc
	done     chan struct{}
	lastMsg  *string
	parent   context.Context
	confdLog *os.File
}

// newCalicoNode prepares the calico-node of b, reading the API server at
// server and trusting ca.
func newCalicoNode(b *birdNode, server string, ca *k8s.CA, topo *topology.Topology, log *zap.Logger) *calicoNode {
	c := &calicoNode{bird: b, server: server, topo: topo, log: log}
	c.client = k8s.NewClient(ca.Pool(), c.dial)
	return c
}

// dial makes the agent's connections inside the node's namespace: the
// socket is created there and keeps it.
func (c *calicoNode) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var conn net.Conn
	err := c.bird.spec.Namespace.Do(func() error {
		d := net.Dialer{Timeout: 2 * time.Second}
		var err error
		conn, err = d.DialContext(ctx, network, addr)
		return err
	})
	return conn, err
}

// file is a path under the node's folder.
func (c *calicoNode) file(elem ...string) string {
	return filepath.Join(append([]string{c.bird.spec.Dir}, elem...)...)
}

// start marks calico-node started (nodename) and runs the agent until ctx
// ends or stopAgent is called.
func (c *calicoNode) start(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cancel != nil {
		return fmt.Errorf("calico-node of %s is already running", c.bird.spec.Node.Name)
	}
	if c.parent == nil {
		c.parent = ctx
	}
	if err := writeFile(c.file("var", "lib", "calico", "nodename"), []byte(c.bird.spec.Node.Name)); err != nil {
		return err
	}
	if err := c.bird.writeCalicoConfig(); err != nil {
		return err
	}
	if err := os.MkdirAll(c.file("var", "log", "calico"), 0o755); err != nil {
		return fmt.Errorf("calico-node: %w", err)
	}
	f, err := os.OpenFile(c.file("var", "log", "calico", "confd.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("calico-node: %w", err)
	}
	c.started, c.lastMsg, c.confdLog = time.Now(), nil, f
	c.agent = &k8s.Agent{
		Server:    c.server,
		Fetch:     func(ctx context.Context) ([]k8s.NodeInfo, error) { return k8s.FetchNodes(ctx, c.client, c.server) },
		Apply:     c.apply,
		Target:    "/etc/calico/confd/config/bird.cfg",
		Log:       f,
		AfterTick: c.logReadiness,
	}
	actx, cancel := context.WithCancel(c.parent)
	done := make(chan struct{})
	c.cancel, c.done = cancel, done
	go func() {
		defer close(done)
		c.agent.Run(actx)
	}()
	return nil
}

// stopAgent ends the agent and waits for it.
func (c *calicoNode) stopAgent() {
	c.mu.Lock()
	cancel, done, f := c.cancel, c.done, c.confdLog
	c.cancel, c.done, c.confdLog = nil, nil, nil
	c.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	<-done
	_ = f.Close()
}

// restart plays calico-node restarting (after a reboot): the agent stops,
// BIRD restarts without BGP peers, and a fresh agent starts over.
func (c *calicoNode) restart(ctx context.Context) error {
	c.stopAgent()
	if err := c.bird.restartWithoutPeers(ctx); err != nil {
		return fmt.Errorf("restart calico-node: %w", err)
	}
	return c.start(c.parent)
}

// apply renders the Calico mesh for nodes (every other calico-node is a
// Mesh_ peer) and loads it into BIRD.
func (c *calicoNode) apply(ctx context.Context, nodes []k8s.NodeInfo) error {
	return c.bird.setPeers(ctx, c.meshPeers(nodes))
}

// meshPeers turns the node list into BIRD peers, ordered by address. A
// peering the topology also has keeps its settings (password, TTL
// security); address and AS come from the API server.
func (c *calicoNode) meshPeers(nodes []k8s.NodeInfo) []bird.Peer {
	self := c.bird.spec.Node.Name
	port := uint16(c.bird.spec.Port)
	var peers []bird.Peer
	for _, n := range nodes {
		if n.Name == self || !n.Address.Addr().Is4() {
			continue
		}
		p := bird.Peer{Name: n.Name, Port: port}
		for _, s := range c.bird.spec.Sessions {
			if s.Has(n.Name) {
				if tp, err := birdPeer(c.bird.spec, s, port); err == nil {
					p = tp
				}
			}
		}
		p.Address, p.ASN, p.Kind = n.Address.Addr(), cmp.Or(n.ASN, k8s.DefaultASN), bird.KindMesh
		p.RouteReflectorClient, p.ClusterID = false, ""
		peers = append(peers, p)
	}
	slices.SortFunc(peers, func(a, b bird.Peer) int { return a.Address.Compare(b.Address) })
	return peers
}

// readiness is calico-node's BIRD readiness verdict now: "" when ready.
func (c *calicoNode) readiness(ctx context.Context) string {
	c.mu.Lock()
	started := c.started
	c.mu.Unlock()
	return k8s.BIRDReady(ctx, c.bird.paths.Socket, started, k8s.DefaultThreshold)
}

// logReadiness appends the readiness verdict to readiness.log when it
// changed since the last one.
func (c *calicoNode) logReadiness(ctx context.Context) {
	msg := c.readiness(ctx)
	c.mu.Lock()
	same := c.lastMsg != nil && *c.lastMsg == msg
	c.lastMsg = &msg
	c.mu.Unlock()
	if same {
		return
	}
	line := msg
	if line == "" {
		line = "calico/node is ready"
	}
	f, err := os.OpenFile(c.file("var", "log", "calico", "readiness.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		c.log.Warn("readiness log", zap.Error(err))
		return
	}
	defer f.Close()
	_, _ = fmt.Fprintf(f, "%s %s\n", time.Now().UTC().Format("2006-01-02 15:04:05.000"), line)
}
