package lab

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/peerlab/peerlab/internal/bird"
	"github.com/peerlab/peerlab/lab/topology"
)

// birdPaths is a BIRD node's file root under NodeSpec.Dir, the same layout
// for BIRD 1.6 and BIRD 2:
//
//	etc/bird/bird.cfg    the configuration RenderConfig wrote
//	run/bird.ctl         the control socket, unless that path is 108 bytes or
//	                     longer (the Unix socket limit): then the socket is
//	                     /run/peerlab/s/<hash>.ctl and
//	run/bird.ctl.path    holds that path
//	var/log/bird.log     BIRD's own log (log "…" all)
//	var/log/bird.stderr  what the daemon wrote to stdout and stderr
type birdPaths struct {
	Config, Socket, SocketNote, Log, Stderr string
}

// maxSocketPath is the longest control socket path BIRD can bind: sun_path
// is 108 bytes including the terminating NUL.
const maxSocketPath = 107

// shortSocketDir holds control sockets whose natural path is too long.
const shortSocketDir = "/run/peerlab/s"

// newBIRDPaths lays out the file root dir.
func newBIRDPaths(dir string) birdPaths {
	p := birdPaths{
		Config: filepath.Join(dir, "etc", "bird", "bird.cfg"),
		Socket: filepath.Join(dir, "run", "bird.ctl"),
		Log:    filepath.Join(dir, "var", "log", "bird.log"),
		Stderr: filepath.Join(dir, "var", "log", "bird.stderr"),
	}
	if len(p.Socket) > maxSocketPath {
		sum := sha256.Sum256([]byte(p.Socket))
		p.SocketNote = p.Socket + ".path"
		p.Socket = filepath.Join(shortSocketDir, hex.EncodeToString(sum[:8])+".ctl")
	}
	return p
}

// prepare creates the folders of the layout and, for a short socket path,
// the note saying where the socket is.
func (p birdPaths) prepare() error {
	for _, f := range []string{p.Config, p.Socket, p.Log} {
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			return fmt.Errorf("create folder for %s: %w", f, err)
		}
	}
	if p.SocketNote != "" {
		if err := os.MkdirAll(filepath.Dir(p.SocketNote), 0o755); err != nil {
			return fmt.Errorf("create folder for %s: %w", p.SocketNote, err)
		}
		if err := os.WriteFile(p.SocketNote, []byte(p.Socket+"\n"), 0o644); err != nil {
			return fmt.Errorf("write socket path note: %w", err)
		}
		// A link at the natural path, so the node's /var/run/calico/bird.ctl
		// (nodehost.go) leads to the socket too.
		natural := strings.TrimSuffix(p.SocketNote, ".path")
		if _, err := os.Lstat(natural); errors.Is(err, os.ErrNotExist) {
			if err := os.Symlink(p.Socket, natural); err != nil {
				return fmt.Errorf("link control socket: %w", err)
			}
		}
	}
	return nil
}

// birdConfig turns a node's topology into BIRD's configuration and the
// names of its BGP protocols: protocol name -> peer node.
func birdConfig(spec NodeSpec, logFile string) (bird.Config, map[string]string, error) {
	self := spec.Node
	if spec.Port <= 0 || spec.Port > 65535 {
		return bird.Config{}, nil, fmt.Errorf("BGP port %d is out of range", spec.Port)
	}
	port := uint16(spec.Port)
	nodeIP := spec.Bind(self.Name)
	if !nodeIP.Is4() {
		return bird.Config{}, nil, fmt.Errorf("BIRD nodes need an IPv4 address, %s has %v", self.Name, nodeIP)
	}
	routerID := self.RouterID
	if !routerID.Is4() {
		routerID = nodeIP
	}
	cfg := bird.Config{
		RouterID: routerID, ASN: self.ASN, NodeIP: nodeIP, ListenPort: port, LogFile: logFile,
		Pools:         labPools(spec.Topology),
		HoldTime:      int(self.Timers.Hold / time.Second),
		KeepaliveTime: int(self.Timers.Keepalive / time.Second),
	}
	var errs []error
	for i, p := range self.Prefixes {
		switch {
		case !p.Prefix.Addr().Is4():
			errs = append(errs, fmt.Errorf("prefixes[%d]: %v: BIRD nodes announce IPv4 prefixes only", i, p.Prefix))
			continue
		case p.NextHop.IsValid() || len(p.Communities) > 0 || p.Prepend > 0:
			errs = append(errs, fmt.Errorf("prefixes[%d]: %v: BIRD nodes announce plain prefixes (next-hop, communities and prepend are not supported)", i, p.Prefix))
			continue
		}
		cfg.Prefixes = append(cfg.Prefixes, p.Prefix.Masked())
	}
	names := make(map[string]string, len(spec.Sessions))
	for _, s := range spec.Sessions {
		peer, err := birdPeer(spec, s, port)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		cfg.Peers = append(cfg.Peers, peer)
		names[bird.ProtocolName(peer)] = peer.Name
	}
	if err := errors.Join(errs...); err != nil {
		return bird.Config{}, nil, err
	}
	if err := cfg.Validate(); err != nil {
		return bird.Config{}, nil, err
	}
	return cfg, names, nil
}

// birdPeer is self's side of session s as a Calico peer: Mesh for the
// node-to-node mesh, Node for `between` sessions and both ends of a
// route-reflector session, the reflector's side marked as rr client.
func birdPeer(spec NodeSpec, s *topology.Session, port uint16) (bird.Peer, error) {
	self := spec.Node
	otherName := s.Other(self.Name)
	other := spec.Topology.Node(otherName)
	if other == nil {
		return bird.Peer{}, fmt.Errorf("session %s-%s: node %s not in topology", s.A, s.B, otherName)
	}
	addr := spec.Bind(otherName)
	if !addr.Is4() {
		return bird.Peer{}, fmt.Errorf("session %s-%s: BIRD nodes peer over IPv4, %s has %v", s.A, s.B, otherName, addr)
	}
	asn := other.ASN
	if v, ok := s.PeerASN[otherName]; ok {
		asn = v
	}
	p := bird.Peer{
		Name:        otherName,
		Address:     addr,
		Port:        port,
		ASN:         asn,
		Kind:        bird.KindNode,
		Password:    s.Password,
		TTLSecurity: s.TTLSecurity > 0,
		// For mesh peers RenderConfig adds Calico's own passive rule.
		Passive: s.Passive == self.Name,
	}
	switch s.Kind {
	case topology.SessionMesh:
		p.Kind = bird.KindMesh
	case topology.SessionRouteReflector:
		if s.Reflector == self.Name {
			p.RouteReflectorClient = true
			p.ClusterID = clusterID(self)
		}
	}
	return p, nil
}

// clusterID is a reflector's cluster ID: its own, else its router ID, else
// its address.
func clusterID(n *topology.Node) string {
	for _, a := range []netip.Addr{n.ClusterID, n.RouterID, n.Address} {
		if a.Is4() {
			return a.String()
		}
	}
	return ""
}

// labPools stands in for Calico's IP pools: every IPv4 prefix some node of
// the lab announces. BIRD exports routes inside a pool to its peers, so a
// BIRD route reflector passes the other nodes' blocks on as Calico's does.
func labPools(topo *topology.Topology) []netip.Prefix {
	seen := map[netip.Prefix]bool{}
	var pools []netip.Prefix
	for _, n := range topo.Nodes {
		for _, p := range n.Prefixes {
			pfx := p.Prefix.Masked()
			if pfx.Addr().Is4() && !seen[pfx] {
				seen[pfx] = true
				pools = append(pools, pfx)
			}
		}
	}
	return pools
}
