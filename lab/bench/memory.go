package bench

import (
	"context"
	"fmt"

	"github.com/peerlab/peerlab/internal/bird"
	"github.com/peerlab/peerlab/lab"
)

// targetMemory asks the target BIRD for `show memory` and returns its total.
func targetMemory(ctx context.Context, edge lab.BIRDNode) (int64, error) {
	c, err := edge.Client(ctx)
	if err != nil {
		return 0, fmt.Errorf("show memory: %w", err)
	}
	lines, err := c.Cmd(ctx, "show memory")
	if err != nil {
		return 0, fmt.Errorf("show memory: %w", err)
	}
	return bird.ParseMemoryTotal(bird.Text(lines))
}
