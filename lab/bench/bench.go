package bench

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/peerlab/peerlab/internal/bird"
	"github.com/peerlab/peerlab/internal/netns"
	"github.com/peerlab/peerlab/lab"
	"github.com/peerlab/peerlab/lab/agent"
	"github.com/peerlab/peerlab/lab/routes"
	"github.com/peerlab/peerlab/lab/topology"

	"github.com/peerlab/peerlab/internal/procstat"
)

// Injector names one of the compared route sources.
type Injector string

// The injectors.
const (
	Peerlab     Injector = "peerlab"      // `peerlab inject`, table loaded before the session
	PeerlabFIB  Injector = "peerlab-fib"  // `peerlab inject --order bird-fib`: the BIRD source's order
	PeerlabLive Injector = "peerlab-live" // `peerlab inject --live-batch`: announced once Established
	BIRD        Injector = "bird"         // BIRD 1.6 announcing N static blackhole routes: the floor
	ExaBGP      Injector = "exabgp"       // ExaBGP 4.2 fed `announce attributes ... nlri` lines
	GoBGP       Injector = "gobgp"        // a gobgp node with `routes: {generate: N}` (peerlab agent)
)

// Injectors is the default set, in measuring order.
var Injectors = []Injector{Peerlab, PeerlabFIB, PeerlabLive, BIRD, ExaBGP}

// AllInjectors is every injector Run knows, in measuring order.
var AllInjectors = []Injector{Peerlab, PeerlabFIB, PeerlabLive, BIRD, ExaBGP, GoBGP}

// ParseInjectors checks names against AllInjectors; nil or empty gives
// nil (the default set).
func ParseInjectors(names []string) ([]Injector, error) {
	var out []Injector
	for _, n := range names {
		if !slices.Contains(AllInjectors, Injector(n)) {
			return nil, fmt.Errorf("injector %q: want one of %v", n, AllInjectors)
		}
		if slices.Contains(out, Injector(n)) {
			return nil, fmt.Errorf("injector %q is listed twice", n)
		}
		out = append(out, Injector(n))
	}
	return out, nil
}

// DefaultLiveBatch is the batch size of the peerlab-live row.
const DefaultLiveBatch = 10000

// Options tune Run.
type Options struct {
	// N is the number of /24s injected; default 100,000.
	N int
	// Target is the target's node kind, "bird" (1.6, default) or "bird2".
	Target string
	// Injectors to run; nil means Injectors.
	Injectors []Injector
	// Exe is the peerlab binary the peerlab rows run as `peerlab inject`;
	// "" means $PEERLAB_AGENT_EXE (lab.AgentExeEnv). The CLI passes
	// itself (os.Executable).
	Exe string
	// LiveBatch is the peerlab-live row's --live-batch; default
	// DefaultLiveBatch.
	LiveBatch int
	// StateDir is the labs' state folder; "" means lab.DefaultStateDir().
	StateDir string
	// WorkDir holds configs and captures; "" means a temporary folder
	// removed afterwards.
	WorkDir string
	// Timeout bounds each injector's run; default 10 minutes.
	Timeout time.Duration
	// Logger receives progress; nil means none.
	Logger *zap.Logger
}

// Row is one injector's measurement.
type Row struct {
	Injector Injector
	// Reached is the route count the target last showed (N when done).
	Reached int
	// Took is from the first TCP SYN of the injector's session to the
	// poll that showed N routes (100 ms polling).
	Took time.Duration
	// Wire is what the injector sent, from the target's capture.
	Wire Wire
	// FromNLRI is from the first UPDATE carrying NLRI in the capture to
	// the poll that showed N routes: the transfer without the session
	// set-up (for peerlab-live, the live injection rate).
	FromNLRI time.Duration
	// PeakRSS is the injector process's VmHWM in bytes.
	PeakRSS int64
	// TargetMemory is the "Total:" of the target BIRD's `show memory`
	// when it held N routes, in bytes (0 when it could not be read).
	TargetMemory int64
}

// Addresses of the two nodes in every bench lab (inside its namespaces).
var (
	injectorAddr = netip.MustParseAddr("10.77.0.1")
	targetAddr   = netip.MustParseAddr("10.77.0.2")
)

// AS numbers of the injector and the target.
const (
	injectorAS = 65001
	targetAS   = 65002
)

// pollEvery is how often the target's route count is read.
const pollEvery = 100 * time.Millisecond

// Run measures each injector against a fresh target lab, one after the
// other. It returns the rows measured before the first failure too.
func Run(ctx context.Context, opts Options) ([]Row, error) {
	if opts.N <= 0 {
		opts.N = 100000
	}
	if opts.N > 1<<20 {
		return nil, fmt.Errorf("n %d: at most %d /24s fit in 16.0.0.0/4", opts.N, 1<<20)
	}
	switch opts.Target {
	case "":
		opts.Target = "bird"
	case "bird", "bird2":
	default:
		return nil, fmt.Errorf("target %q: want bird or bird2", opts.Target)
	}
	if opts.Injectors == nil {
		opts.Injectors = Injectors
	}
	if opts.LiveBatch <= 0 {
		opts.LiveBatch = DefaultLiveBatch
	}
	if opts.Exe == "" {
		opts.Exe = os.Getenv(lab.AgentExeEnv)
	}
	if opts.Exe == "" && slices.ContainsFunc(opts.Injectors, func(i Injector) bool { return i == Peerlab || i == PeerlabFIB || i == PeerlabLive }) {
		return nil, fmt.Errorf("the peerlab rows need the peerlab binary: set Options.Exe or $%s", lab.AgentExeEnv)
	}
	if opts.Timeout == 0 {
		opts.Timeout = 10 * time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	if opts.WorkDir == "" {
		dir, err := os.MkdirTemp("", "peerlab-bench")
		if err != nil {
			return nil, fmt.Errorf("work folder: %w", err)
		}
		defer os.RemoveAll(dir)
		opts.WorkDir = dir
	}
	var rows []Row
	for i, inj := range opts.Injectors {
		row, err := runOne(ctx, opts, inj, i)
		if err != nil {
			return rows, fmt.Errorf("%s: %w", inj, err)
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// labName is a short lab name unique to this process and run.
func labName(inj Injector, i int) string {
	return fmt.Sprintf("bn%c%d%s", inj[0], i, strconv.FormatInt(int64(os.Getpid()), 36))
}

// topologyFor is the bench lab: "src" (the injector's place) and "edge"
// (the target), which never dials, so that the first SYN is the
// injector's. For gobgp, src is a gobgp node that generates the table;
// otherwise it is a BIRD node without routes that Run stops at once, so
// that the injector can take its address.
func topologyFor(name string, inj Injector, n int, target string) (*topology.Topology, error) {
	src := "kind: bird"
	if inj == GoBGP {
		src = fmt.Sprintf("routes: {generate: %d, from: 16.0.0.0/4, length: 24}", n)
	}
	yaml := fmt.Sprintf(`name: %s
nodes:
  src: {address: %s, asn: %d, %s}
  edge: {address: %s, asn: %d, kind: %s}
peerings:
  - between: [src, edge]
    passive: edge
`, name, injectorAddr, injectorAS, src, targetAddr, targetAS, target)
	return topology.Parse(name+".yaml", []byte(yaml))
}

// runOne brings up one bench lab, runs inj in it and measures.
func runOne(ctx context.Context, opts Options, inj Injector, i int) (row Row, err error) {
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	log := opts.Logger.With(zap.String("injector", string(inj)))
	name := labName(inj, i)
	dir := filepath.Join(opts.WorkDir, string(inj))
	capDir := filepath.Join(dir, "capture")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return row, fmt.Errorf("work folder: %w", err)
	}
	topo, err := topologyFor(name, inj, opts.N, opts.Target)
	if err != nil {
		return row, fmt.Errorf("topology: %w", err)
	}
	log.Info("lab up", zap.String("lab", name))
	l, err := lab.Up(ctx, topo, lab.Options{
		Logger: opts.Logger.Named("lab"), StateDir: opts.StateDir, Mode: lab.ModeNamespace, CaptureDir: capDir,
	})
	if err != nil {
		return row, fmt.Errorf("lab up: %w", err)
	}
	defer func() {
		if l != nil {
			err = errors.Join(err, l.Down())
		}
	}()
	since := l.Started()
	pid := 0
	if inj == GoBGP {
		pid = childNamed(agent.ProcessName)
	} else {
		if err := l.Node("src").Stop(); err != nil {
			return row, fmt.Errorf("stop placeholder node: %w", err)
		}
		since = time.Now()
		cmd, err := startInjector(inj, dir, name, opts)
		if err != nil {
			return row, err
		}
		defer func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}()
		pid = cmd.Process.Pid
	}
	row = Row{Injector: inj}
	edge, ok := l.Node("edge").(lab.BIRDNode)
	if !ok {
		return row, errors.New("target node is not a BIRD node")
	}
	reached, err := waitCount(ctx, edge, opts.N, &row.Reached)
	if err != nil {
		return row, err
	}
	row.PeakRSS, _ = procstat.PeakRSS(pid) // 0 when the process is gone
	row.TargetMemory, err = targetMemory(ctx, edge)
	if err != nil {
		log.Warn("target show memory", zap.Error(err))
	}
	log.Info("target full", zap.Int("routes", row.Reached), zap.Int64("target_memory", row.TargetMemory))
	files := l.CaptureFiles()
	downErr := l.Down()
	l = nil
	if downErr != nil {
		return row, fmt.Errorf("lab down: %w", downErr)
	}
	for _, f := range files {
		if !strings.HasPrefix(filepath.Base(f), "edge") {
			continue
		}
		w, err := decodeFile(f, since)
		if err != nil {
			return row, err
		}
		row.Wire = w
	}
	if row.Wire.FirstSYN.IsZero() {
		return row, errors.New("no SYN from or to the injector in the target's capture")
	}
	row.Took = reached.Sub(row.Wire.FirstSYN)
	if !row.Wire.FirstNLRI.IsZero() {
		row.FromNLRI = reached.Sub(row.Wire.FirstNLRI)
	}
	return row, nil
}

// decodeFile decodes one capture file.
func decodeFile(path string, since time.Time) (Wire, error) {
	f, err := os.Open(path)
	if err != nil {
		return Wire{}, fmt.Errorf("capture: %w", err)
	}
	defer f.Close()
	w, err := DecodeWire(f, injectorAddr, since)
	if err != nil {
		return w, fmt.Errorf("capture %s: %w", path, err)
	}
	return w, nil
}

// waitCount polls the target every pollEvery until it holds n routes of
// 16.0.0.0/4 and returns when it saw them.
func waitCount(ctx context.Context, edge lab.BIRDNode, n int, last *int) (time.Time, error) {
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	var lastErr error
	for {
		c, err := edge.Client(ctx)
		if err == nil {
			var lines []bird.Line
			lines, err = c.Cmd(ctx, "show route where net ~ [ 16.0.0.0/4+ ] count")
			if err == nil {
				*last, err = bird.ParseRouteCount(strings.NewReader(bird.Text(lines)))
			}
		}
		now := time.Now()
		if err == nil && *last >= n {
			return now, nil
		}
		lastErr = err
		select {
		case <-ctx.Done():
			return now, fmt.Errorf("target holds %d of %d routes (last error %v): %w", *last, n, lastErr, ctx.Err())
		case <-t.C:
		}
	}
}

// startInjector writes inj's configuration under dir and starts it in
// the src node's namespace of lab name.
func startInjector(inj Injector, dir, name string, opts Options) (*exec.Cmd, error) {
	p := peer{local: injectorAddr, remote: targetAddr, localAS: injectorAS, remoteAS: targetAS}
	var cmd *exec.Cmd
	switch inj {
	case Peerlab, PeerlabFIB, PeerlabLive:
		live, order := 0, ""
		switch inj {
		case PeerlabLive:
			live = opts.LiveBatch
		case PeerlabFIB:
			order = routes.OrderBIRDFIB
		}
		cmd = exec.Command(opts.Exe, peerlabInjectArgs(p, opts.N, live, order)...)
	case BIRD:
		conf := filepath.Join(dir, "bird.conf")
		if err := writeBIRDSource(conf, p, opts.N); err != nil {
			return nil, err
		}
		cmd = exec.Command(bird.DefaultBinaries(bird.Bird1).Bird, "-f", "-c", conf, "-s", filepath.Join(dir, "bird.ctl"))
	case ExaBGP:
		conf, err := writeExaBGP(dir, p, opts.N)
		if err != nil {
			return nil, err
		}
		cmd = exec.Command("exabgp", conf)
		cmd.Env = exaBGPEnv()
	default:
		return nil, fmt.Errorf("unknown injector %q", inj)
	}
	logf, err := os.Create(filepath.Join(dir, string(inj)+".log"))
	if err != nil {
		return nil, fmt.Errorf("injector log: %w", err)
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr, cmd.Dir = logf, logf, dir
	if err := netns.StartProcessAt(netns.NamespacePathOf(name, "src"), cmd); err != nil {
		return nil, fmt.Errorf("start %s: %w", inj, err)
	}
	return cmd, nil
}
