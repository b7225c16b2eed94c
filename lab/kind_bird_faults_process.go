package lab

import (
	"context"
	"fmt"

	"github.com/peerlab/peerlab/lab/topology"
)

// injectProcessFault applies a process fault to a BIRD node.
func (b *birdNode) injectProcessFault(_ context.Context, f *topology.Fault) (HealFunc, error) {
	return nil, fmt.Errorf("%s on BIRD node %s: %w", f.Name, f.Node, ErrFaultUnsupported)
}
