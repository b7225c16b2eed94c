package lab

import (
	"context"
	"fmt"

	"github.com/peerlab/peerlab/lab/topology"
)

// InjectFault implements FaultInjector: config faults re-render BIRD's
// configuration and reload it (kind_bird_faults_config.go); process faults
// act on the daemon itself (kind_bird_faults_process.go).
func (b *birdNode) InjectFault(ctx context.Context, f *topology.Fault) (HealFunc, error) {
	switch f.Name {
	case "as-mismatch", "router-id-conflict", "md5-mismatch", "md5-one-sided":
		return b.injectConfigFault(ctx, f)
	case "hold-timer-expiry", "bird-down", "bird-unconfigured", "port179-in-use":
		return b.injectProcessFault(ctx, f)
	}
	return nil, fmt.Errorf("%s on BIRD node %s: %w", f.Name, f.Node, ErrFaultUnsupported)
}
