package k8s

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/peerlab/peerlab/internal/bird"
	"github.com/peerlab/peerlab/internal/lazy"
)

// DefaultThreshold is calico-node's -threshold-time: for this long after
// calico-node starts, every BGP peer must be Established for BIRD to be
// ready; afterwards one Established peer is enough.
const DefaultThreshold = 30 * time.Second

// calicoPeerName is the name Calico gives its BGP protocols: Mesh_, Node_
// or Global_ followed by the peer address with "_" for the separators.
var calicoPeerName = lazy.Regexp(`^(Global|Node|Mesh)_(.+)$`)

// Peer is one of Calico's BGP peers as the readiness check sees it.
type Peer struct {
	// Name is the BIRD protocol name, e.g. Mesh_10_0_0_2.
	Name string
	// PeerIP is the address the name encodes, e.g. 10.0.0.2.
	PeerIP string
	// BGPState is the first word of the info column, e.g. Established.
	BGPState string
}

// CalicoPeers picks the BGP protocols Calico's check looks at out of `show
// protocols` rows: protocol BGP, named Mesh_*, Node_* or Global_*, in
// BIRD's order. Other protocols (device, kernel, a BGP protocol named
// otherwise) are ignored.
func CalicoPeers(protos []bird.Protocol) []Peer {
	var out []Peer
	for _, p := range protos {
		if p.Proto != "BGP" {
			continue
		}
		m := calicoPeerName().FindStringSubmatch(p.Name)
		if m == nil {
			continue
		}
		ip := m[2]
		if v4 := strings.ReplaceAll(ip, "_", "."); strings.Count(v4, ".") >= 3 {
			// A port suffix (Node_10_0_0_2_port_1179) is not part of the address.
			if i := strings.Index(ip, "_port_"); i >= 0 {
				v4 = strings.ReplaceAll(ip[:i], "_", ".")
			}
			ip = v4
		} else {
			ip = strings.ReplaceAll(ip, "_", ":")
		}
		out = append(out, Peer{Name: p.Name, PeerIP: ip, BGPState: p.Info})
	}
	return out
}

// CheckPeers is calico-node's BIRD readiness rule. With no peer BIRD is
// ready. Within threshold of calico-node's start (sinceStart) every peer
// must be Established; afterwards one Established peer is enough. The
// error names the peers that are not, comma-separated in BIRD's order:
// "BGP not established with 10.0.0.2,10.0.0.3".
func CheckPeers(peers []Peer, sinceStart, threshold time.Duration) error {
	var down []string
	established := 0
	for _, p := range peers {
		if p.BGPState == "Established" {
			established++
		} else {
			down = append(down, p.PeerIP)
		}
	}
	switch {
	case len(peers) == 0:
		return nil
	case sinceStart < threshold && len(down) > 0, sinceStart >= threshold && established == 0:
		return fmt.Errorf("BGP not established with %s", strings.Join(down, ","))
	}
	return nil
}

// NotReadyMessage is what `calico-node -bird-ready` prints for err:
// "calico/node is not ready: BIRD is not ready: <err>".
func NotReadyMessage(err error) string {
	return fmt.Sprintf("calico/node is not ready: BIRD is not ready: %v", err)
}

// BIRDReady runs calico-node's BIRD readiness check against the control
// socket: "" when BIRD is ready, else exactly the message calico-node
// prints. started is when calico-node started (Calico reads the mtime of
// /var/lib/calico/nodename).
func BIRDReady(ctx context.Context, socket string, started time.Time, threshold time.Duration) string {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	c, err := bird.Dial(ctx, socket)
	if err != nil {
		return NotReadyMessage(fmt.Errorf("error querying BIRD: unable to connect to BIRDv4 socket: %w", err))
	}
	defer c.Close()
	protos, err := c.ShowProtocols(ctx)
	if err != nil {
		return NotReadyMessage(fmt.Errorf("error executing command: %w", err))
	}
	if err := CheckPeers(CalicoPeers(protos), time.Since(started), threshold); err != nil {
		return NotReadyMessage(err)
	}
	return ""
}
