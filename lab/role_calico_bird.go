package lab

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"

	"github.com/peerlab/peerlab/internal/bird"
	"github.com/peerlab/peerlab/lab/topology"
)

// A BIRD node with role calico-node starts as calico-node does before its
// confd has heard from the API server: BIRD runs with the device, direct,
// kernel and static protocols and no BGP peer. The node's agent
// (role_calico.go) then sets the peers it reads from the API server.

// calicoConfigPath is where Calico's confd writes BIRD's configuration, under
// the node's folder; the node's BIRD reads its own copy (birdPaths.Config).
func calicoConfigPath(dir string) string {
	return filepath.Join(dir, "etc", "calico", "confd", "config", "bird.cfg")
}

// calicoInitialConfig is cfg as the node's BIRD starts with: without BGP
// peers when the node is a calico-node, unchanged otherwise.
func calicoInitialConfig(n *topology.Node, cfg bird.Config) bird.Config {
	if n.HasRole(topology.RoleCalicoNode) {
		cfg.Peers = nil
	}
	return cfg
}

// setPeers makes peers the node's BGP peers (what confd renders from the
// node list), keeping active config faults' overlays on top, loads the
// result into BIRD and writes it to Calico's path too.
func (b *birdNode) setPeers(ctx context.Context, peers []bird.Peer) error {
	b.faults.mu.Lock()
	defer b.faults.mu.Unlock()
	prev := b.faults.base.Peers
	b.faults.base.Peers = slices.Clone(peers)
	if err := b.reconfigure(ctx, b.faults.desired()); err != nil {
		b.faults.base.Peers = prev
		return err
	}
	return b.writeCalicoConfig()
}

// setCalico is setPeers with the node's AS and listen port as confd
// rendered them (0 keeps the topology's).
func (b *birdNode) setCalico(ctx context.Context, asn uint32, port uint16, peers []bird.Peer) error {
	b.faults.mu.Lock()
	defer b.faults.mu.Unlock()
	prev := b.faults.base
	b.faults.base.Peers = slices.Clone(peers)
	if asn != 0 {
		b.faults.base.ASN = asn
	}
	if port != 0 {
		b.faults.base.ListenPort = port
	}
	if err := b.reconfigure(ctx, b.faults.desired()); err != nil {
		b.faults.base = prev
		return err
	}
	return b.writeCalicoConfig()
}

// writeCalicoConfig copies the configuration BIRD runs on to Calico's path.
func (b *birdNode) writeCalicoConfig() error {
	b.mu.Lock()
	cfg := b.config
	b.mu.Unlock()
	p := calicoConfigPath(b.spec.Dir)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("node %s: %w", b.spec.Node.Name, err)
	}
	if err := os.WriteFile(p, cfg, 0o600); err != nil {
		return fmt.Errorf("node %s: write %s: %w", b.spec.Node.Name, p, err)
	}
	return nil
}

// restartWithoutPeers plays calico-node restarting (a reboot, a pod
// restart): BIRD stops (its peers see the sessions close) and starts
// again on a configuration without BGP peers, as the fresh confd has not
// rendered any yet.
func (b *birdNode) restartWithoutPeers(ctx context.Context) error {
	b.faults.mu.Lock()
	defer b.faults.mu.Unlock()
	b.faults.base.Peers = nil
	b.mu.Lock()
	if b.client != nil {
		_ = b.client.Close()
		b.client = nil
	}
	var err error
	if b.daemon != nil {
		_ = syscall.Kill(b.daemon.Pid(), syscall.SIGCONT) // in case a fault froze it
		err = b.daemon.Stop()
		b.daemon = nil
	}
	b.mu.Unlock()
	if err != nil {
		return fmt.Errorf("node %s: stop %s: %w", b.spec.Node.Name, b.version, err)
	}
	var buf []byte
	if buf, err = renderBIRD(b.faults.desired(), b.version); err != nil {
		return fmt.Errorf("node %s: %w", b.spec.Node.Name, err)
	}
	if err := os.WriteFile(b.paths.Config, buf, 0o600); err != nil {
		return fmt.Errorf("node %s: write BIRD config: %w", b.spec.Node.Name, err)
	}
	b.mu.Lock()
	b.config = buf
	b.mu.Unlock()
	if err := b.writeCalicoConfig(); err != nil {
		return err
	}
	return b.launch(ctx, os.O_APPEND)
}

// renderBIRD renders cfg for version v.
func renderBIRD(cfg bird.Config, v bird.Version) ([]byte, error) {
	var buf bytes.Buffer
	if err := bird.RenderConfig(&buf, cfg, v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
