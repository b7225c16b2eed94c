package lab

import (
	"context"
	"fmt"

	"github.com/peerlab/peerlab/lab/topology"
)

// injectConfigFault applies a configuration fault to a BIRD node.
func (b *birdNode) injectConfigFault(_ context.Context, f *topology.Fault) (HealFunc, error) {
	return nil, fmt.Errorf("%s on BIRD node %s: %w", f.Name, f.Node, ErrFaultUnsupported)
}
