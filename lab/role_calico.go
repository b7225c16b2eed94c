package lab

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/peerlab/peerlab/internal/bird"
	"github.com/peerlab/peerlab/lab/k8s"
	"github.com/peerlab/peerlab/lab/topology"
)

// calicoNode is the calico-node of a BIRD node: a `calico-node -confd`
// process inside the node (k8s.CalicoNodeMain) that reads the node list
// from the API server as the node can reach it and logs like confd and
// the readiness probe; each new list comes to the lab over the process's
// stdout, and the lab renders the mesh into BIRD's configuration (with
// the active faults' overlays) and answers on its stdin. Files under the
// node's folder (the node sees them under /etc/calico, /var/lib/calico
// and /var/log/calico):
//
//	etc/calico/confd/config/bird.cfg  what confd rendered (BIRD runs a copy)
//	var/lib/calico/nodename           the node name; its mtime is when
//	                                  calico-node started (readiness grace)
//	var/log/calico/confd.log          confd's log
//	var/log/calico/readiness.log      readiness verdicts, on each change
//	var/log/calico-node.stderr        what the process itself complained of
type calicoNode struct {
	bird   *birdNode
	server string
	topo   *topology.Topology
	log    *zap.Logger

	mu      sync.Mutex
	started time.Time
	// restarts counts restart calls; failingSince is when the readiness
	// probe started failing, zero while ready (role_cluster.go).
	restarts     int
	failingSince time.Time
	cmd          *exec.Cmd
	cancel       context.CancelFunc
	done         chan struct{}
	parent       context.Context

	// probeMu serialises the API stand-in's readiness probes; probed and
	// probeMsg are the last probe's time and verdict (role_cluster.go).
	probeMu  sync.Mutex
	probed   time.Time
	probeMsg string
}

// newCalicoNode prepares the calico-node of b, reading the API server at
// server (an https:// URL).
func newCalicoNode(b *birdNode, server string, topo *topology.Topology, log *zap.Logger) *calicoNode {
	return &calicoNode{bird: b, server: server, topo: topo, log: log}
}

// file is a path under the node's folder.
func (c *calicoNode) file(elem ...string) string {
	return filepath.Join(append([]string{c.bird.spec.Dir}, elem...)...)
}

// start marks calico-node started (nodename) and runs its confd process
// until ctx ends or stopAgent is called.
func (c *calicoNode) start(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cmd != nil {
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
	u, err := url.Parse(c.server)
	if err != nil {
		return fmt.Errorf("calico-node: API server %q: %w", c.server, err)
	}
	stderr, err := os.OpenFile(c.file("var", "log", "calico-node.stderr"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("calico-node: %w", err)
	}
	defer stderr.Close()
	cmd := &exec.Cmd{
		Path: "/proc/self/exe", // the lab's executable (RunBuiltin)
		Args: []string{k8s.CalicoNodeName, "-confd"},
		Env: []string{
			"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			"NODENAME=" + c.bird.spec.Node.Name,
			"DATASTORE_TYPE=kubernetes",
			"KUBERNETES_SERVICE_HOST=" + u.Hostname(),
			"KUBERNETES_SERVICE_PORT=" + u.Port(),
		},
		Dir:         "/",
		Stderr:      stderr,
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true},
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("calico-node: %w", err)
	}
	in, err := cmd.StdinPipe()
	if err != nil {
		return fmt.Errorf("calico-node: %w", err)
	}
	c.started = time.Now()
	if err := c.bird.spec.Namespace.StartProcess(cmd); err != nil {
		return fmt.Errorf("calico-node: start: %w", err)
	}
	actx, cancel := context.WithCancel(c.parent)
	done := make(chan struct{})
	c.cmd, c.cancel, c.done = cmd, cancel, done
	go func() {
		defer close(done)
		c.serveApply(actx, bufio.NewReader(out), in)
		_ = cmd.Wait()
	}()
	go func() {
		<-actx.Done()
		_ = cmd.Process.Signal(syscall.SIGTERM)
	}()
	c.log.Debug("calico-node started", zap.Int("pid", cmd.Process.Pid))
	return nil
}

// serveApply applies every node list the confd process hands over until
// its stdout closes.
func (c *calicoNode) serveApply(ctx context.Context, out *bufio.Reader, in io.WriteCloser) {
	defer in.Close()
	for {
		snap, err := k8s.ReadApply(out)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				c.log.Warn("calico-node", zap.Error(err))
			}
			return
		}
		reply := "ok"
		if err := c.apply(ctx, snap); err != nil {
			reply = strings.ReplaceAll(err.Error(), "\n", " ")
		}
		if _, err := io.WriteString(in, reply+"\n"); err != nil {
			return
		}
	}
}

// stopAgent stops the calico-node process (SIGTERM, SIGKILL after three
// seconds) and waits for it.
func (c *calicoNode) stopAgent() {
	c.mu.Lock()
	cmd, cancel, done := c.cmd, c.cancel, c.done
	c.cmd, c.cancel, c.done = nil, nil, nil
	c.mu.Unlock()
	if cmd == nil {
		return
	}
	cancel()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// restart plays calico-node restarting (after a reboot): the process
// stops, BIRD restarts without BGP peers, and a fresh calico-node starts
// over.
func (c *calicoNode) restart(ctx context.Context) error {
	c.stopAgent()
	c.mu.Lock()
	c.restarts++
	c.mu.Unlock()
	if err := c.bird.restartWithoutPeers(ctx); err != nil {
		return fmt.Errorf("restart calico-node: %w", err)
	}
	return c.start(c.parent)
}

// apply renders BIRD's BGP settings from a snapshot as Calico's confd
// does (k8s.RenderBGP) and loads them into BIRD. Mesh peers the topology
// also has keep its settings (password, TTL security). An API server
// without Calico's resources gives the plain mesh of the node list.
func (c *calicoNode) apply(ctx context.Context, snap k8s.Snapshot) error {
	if len(snap.Datastore.Nodes) == 0 {
		return c.bird.setPeers(ctx, c.meshPeers(snap.Nodes))
	}
	plan, err := k8s.RenderBGP(snap.Datastore, c.bird.spec.Node.Name, uint16(c.bird.spec.Port))
	if err != nil {
		return err
	}
	for _, w := range plan.Warnings {
		c.log.Warn("calico-node confd", zap.String("warning", w))
	}
	return c.bird.setCalico(ctx, plan.ASN, plan.ListenPort, c.withTopology(plan.Peers))
}

// withTopology names peers after the lab nodes at their addresses and
// gives mesh peers the settings of the topology's session with that node
// (password, TTL security, passive).
func (c *calicoNode) withTopology(peers []bird.Peer) []bird.Peer {
	out := slices.Clone(peers)
	for i, p := range out {
		// Name the peer after the lab node at its address, so that the
		// lab's session tracking knows both ends.
		for _, n := range c.topo.Nodes {
			if n.Name != c.bird.spec.Node.Name && c.bird.spec.Bind(n.Name) == p.Address {
				out[i].Name, p.Name = n.Name, n.Name
			}
		}
		if p.Kind != bird.KindMesh {
			continue
		}
		for _, s := range c.bird.spec.Sessions {
			if !s.Has(p.Name) {
				continue
			}
			if tp, err := birdPeer(c.bird.spec, s, p.Port); err == nil {
				tp.Address, tp.ASN, tp.Kind, tp.Port, tp.Name = p.Address, p.ASN, bird.KindMesh, p.Port, p.Name
				tp.RouteReflectorClient, tp.ClusterID = false, ""
				out[i] = tp
			}
		}
	}
	return out
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
