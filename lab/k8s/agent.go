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
// is unreachable.
const DefaultRetry = 2 * time.Second

// DefaultPoll is how often the agent reads the API server while it
// answers, so that a change of Calico's resources reaches BIRD within
// about a second.
const DefaultPoll = time.Second

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
	// Every is the retry interval; 0 means DefaultRetry.
	Every time.Duration
	// Poll is the interval after a successful read; 0 means DefaultPoll
	// (or Every, when that is shorter).
	Poll time.Duration
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

// Run tries at once, then every Poll while the API server answers and
// every Every while it does not, until ctx ends.
func (a *Agent) Run(ctx context.Context) {
	every := a.Every
	if every <= 0 {
		every = DefaultRetry
	}
	poll := a.Poll
	if poll <= 0 {
		poll = min(DefaultPoll, every)
	}
	a.logf("INFO", "confd starting: datastore kubernetes at %s", a.Server)
	for {
		wait := poll
		if !a.tick(ctx, every) {
			wait = every
		}
		if a.AfterTick != nil && ctx.Err() == nil {
			a.AfterTick(ctx)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
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

// tick is one try: fetch, compare, apply. It reports whether the API
// server answered.
func (a *Agent) tick(ctx context.Context, every time.Duration) bool {
	snap, err := a.Fetch(ctx)
	if ctx.Err() != nil {
		return false
	}
	if err != nil {
		a.logf("ERROR", "failed to connect to the API server at %s: %v; retrying in %s", a.Server, err, every)
		return false
	}
	a.mu.Lock()
	same := a.synced && reflect.DeepEqual(a.applied, snap)
	a.mu.Unlock()
	if same {
		return true
	}
	if err := a.Apply(ctx, snap); err != nil {
		if ctx.Err() == nil {
			a.logf("ERROR", "failed to apply %s: %v", a.Target, err)
		}
		return true
	}
	a.mu.Lock()
	a.applied, a.synced = snap, true
	a.mu.Unlock()
	a.logf("INFO", "Target config %s has been updated (%d node(s) in the mesh)", a.Target, len(snap.Nodes))
	return true
}

// logf writes one line in confd's layout: time, level, message.
func (a *Agent) logf(level, format string, args ...any) {
	if a.Log == nil {
		return
	}
	ts := time.Now().UTC().Format("2006-01-02 15:04:05.000")
	_, _ = fmt.Fprintf(a.Log, "%s [%s][confd] %s\n", ts, level, fmt.Sprintf(format, args...))
}
