package k8s

import (
	"context"
	"fmt"
	"io"
	"reflect"
	"sync"
	"time"
)

// DefaultRetry is how often the agent tries the API server again while it
// is unreachable, and how often it polls it afterwards.
const DefaultRetry = 2 * time.Second

// Agent plays calico-node's confd: it reads the node list from the API
// server, hands it to Apply (which renders BIRD's peers and reloads BIRD)
// whenever it differs from what was applied last, and logs like confd.
// While the API server cannot be reached it retries every Every, and BIRD
// keeps what was applied before (none at all after a restart).
type Agent struct {
	// Server is the API server's URL, for log lines.
	Server string
	// Fetch reads the node list and Calico's resources from the API server.
	Fetch func(ctx context.Context) (Snapshot, error)
	// Apply renders and loads BIRD's configuration for a snapshot.
	Apply func(ctx context.Context, s Snapshot) error
	// Target is the file Apply writes, for log lines.
	Target string
	// Every is the retry and poll interval; 0 means DefaultRetry.
	Every time.Duration
	// Log receives confd-style lines; nil discards them.
	Log io.Writer
	// AfterTick, when set, runs after every try (the lab writes the
	// readiness log there).
	AfterTick func(ctx context.Context)

	mu      sync.Mutex
	applied Snapshot
	synced  bool
}

// Snapshot is what confd reads from the API server in one try: the node
// list and Calico's datastore resources.
type Snapshot struct {
	Nodes     []NodeInfo `json:"nodes"`
	Datastore Datastore  `json:"datastore"`
}

// Run tries at once, then every Every, until ctx ends.
func (a *Agent) Run(ctx context.Context) {
	every := a.Every
	if every <= 0 {
		every = DefaultRetry
	}
	a.logf("INFO", "confd starting: datastore kubernetes at %s", a.Server)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		a.tick(ctx, every)
		if a.AfterTick != nil && ctx.Err() == nil {
			a.AfterTick(ctx)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Synced reports whether the agent has applied a node list since it started.
func (a *Agent) Synced() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.synced
}

// tick is one try: fetch, compare, apply.
func (a *Agent) tick(ctx context.Context, every time.Duration) {
	snap, err := a.Fetch(ctx)
	if ctx.Err() != nil {
		return
	}
	if err != nil {
		a.logf("ERROR", "failed to connect to the API server at %s: %v; retrying in %s", a.Server, err, every)
		return
	}
	a.mu.Lock()
	same := a.synced && reflect.DeepEqual(a.applied, snap)
	a.mu.Unlock()
	if same {
		return
	}
	if err := a.Apply(ctx, snap); err != nil {
		if ctx.Err() == nil {
			a.logf("ERROR", "failed to apply %s: %v", a.Target, err)
		}
		return
	}
	a.mu.Lock()
	a.applied, a.synced = snap, true
	a.mu.Unlock()
	a.logf("INFO", "Target config %s has been updated (%d node(s) in the mesh)", a.Target, len(snap.Nodes))
}

// logf writes one line in confd's layout: time, level, message.
func (a *Agent) logf(level, format string, args ...any) {
	if a.Log == nil {
		return
	}
	ts := time.Now().UTC().Format("2006-01-02 15:04:05.000")
	_, _ = fmt.Fprintf(a.Log, "%s [%s][confd] %s\n", ts, level, fmt.Sprintf(format, args...))
}
