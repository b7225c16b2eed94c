package diagnose

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// LiveOptions tunes a live diagnosis.
type LiveOptions struct {
	// Peer, when set, limits the probes to this peer address.
	Peer string
	// Budget bounds the whole diagnosis; default 1.8 s.
	Budget time.Duration
	// ConnectTimeout bounds each TCP connect to a peer; default 1 s.
	ConnectTimeout time.Duration
	// CaptureWindow is how long BGP is captured on the node's interface;
	// default 1 s; negative disables the capture.
	CaptureWindow time.Duration
	// Registry recognises the gathered text; nil means DefaultRegistry().
	Registry *Registry
}

func (o *LiveOptions) defaults() {
	if o.Budget <= 0 {
		o.Budget = 1800 * time.Millisecond
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = time.Second
	}
	if o.CaptureWindow == 0 {
		o.CaptureWindow = time.Second
	}
	if o.Registry == nil {
		o.Registry = DefaultRegistry()
	}
}

// PeerResolver returns the node that owns a peer address, when its
// evidence can be gathered too (another node of the lab); ok is false
// otherwise.
type PeerResolver func(addr string) (t NodeTarget, ok bool)

// Live is the evidence a live diagnosis gathered.
type Live struct {
	// Cluster is what the recognizers made of the gathered text.
	Cluster *Cluster
	// Artifacts are the gathered texts, by node, ready to be saved as an
	// artifacts folder (<node>/<file>).
	Artifacts []Artifact
	// Took is how long gathering and probing took.
	Took time.Duration
}

// DiagnoseLive diagnoses node t from live evidence: its BIRD, config,
// logs, sockets, counters, firewall and API proxy path; a TCP connect and
// a BGP OPEN as the node to each peer whose session is down, and a short
// capture of BGP on its interface, all in parallel and bounded by
// opts.Budget. It follows the symptom: every down peer that resolve knows
// is gathered too, so findings name the node where the cause lies.
func DiagnoseLive(ctx context.Context, t NodeTarget, resolve PeerResolver, opts LiveOptions) (Report, *Live) {
	opts.defaults()
	start := time.Now()
	deadline := start.Add(opts.Budget)
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()

	self := gatherNode(ctx, t, 300*time.Millisecond, 400*time.Millisecond)
	peers := downPeers(self, opts.Peer)

	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		others   []*nodeGather
		probes   []sessionProbe
		captured captureResult
	)
	started := make(chan struct{}, 1)
	if t.Interface != "" && opts.CaptureWindow > 0 && len(peers) > 0 {
		window := min(opts.CaptureWindow, time.Until(deadline)-300*time.Millisecond)
		wg.Add(1)
		go func() {
			defer wg.Done()
			captured = runCapture(ctx, t.NSPath, t.Interface, window, started)
		}()
		select {
		case <-started:
		case <-time.After(200 * time.Millisecond):
		}
	}
	for _, p := range peers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			spec := self.probeSpec(t.NSPath, p)
			spec.ConnectTimeout = min(opts.ConnectTimeout, time.Until(deadline)-400*time.Millisecond)
			spec.Deadline = start.Add(opts.Budget - 250*time.Millisecond)
			res := probeSession(ctx, spec)
			res.Node = t.Name
			mu.Lock()
			probes = append(probes, res)
			mu.Unlock()
		}()
		if resolve == nil {
			continue
		}
		if pt, ok := resolve(p.Addr().String()); ok && pt.Name != t.Name {
			wg.Add(1)
			go func() {
				defer wg.Done()
				g := gatherNode(ctx, pt, 300*time.Millisecond, 400*time.Millisecond)
				mu.Lock()
				others = append(others, g)
				mu.Unlock()
			}()
		}
	}
	if resolve != nil && opts.Peer == "" {
		for _, a := range upPeers(self) {
			pt, ok := resolve(a)
			if !ok || pt.Name == t.Name {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				g := gatherUp(pt)
				mu.Lock()
				others = append(others, g)
				mu.Unlock()
			}()
		}
	}
	wg.Wait()

	c := &Cluster{}
	live := &Live{Cluster: c}
	all := append([]*nodeGather{self}, others...)
	for _, g := range all {
		n := c.NodeNamed(g.t.Name)
		if g.isRouter() {
			n.Obs.merge(g.routerObservations())
		}
		for _, a := range g.artifacts {
			if a.File == "router-sessions.txt" {
				live.Artifacts = append(live.Artifacts, a)
				continue // read directly above: no recognizer knows it
			}
			c.Add(a.Node, a.Node+"/"+a.File, opts.Registry.Recognize(a.Node+"/"+a.File, a.Data))
			live.Artifacts = append(live.Artifacts, a)
		}
		c.Evidence = append(c.Evidence, g.evidence...)
		c.Unknowns = append(c.Unknowns, g.notes...)
	}
	for _, p := range probes {
		c.Evidence = append(c.Evidence, Evidence{Source: "probe:" + p.Node + ":session " + p.Peer, Kind: "probe-session", Node: p.Node, Lines: p.Lines()})
	}
	if captured.Err != nil {
		c.Unknowns = append(c.Unknowns, t.Name+": "+captured.Err.Error())
	} else if captured.Peers != nil {
		var lines []string
		for _, p := range peers {
			if s, ok := captured.Peers[p.Addr().String()]; ok {
				lines = append(lines, s.Line(p.Addr().String()))
			} else {
				lines = append(lines, "capture with "+p.Addr().String()+": no BGP or ICMP packet seen")
			}
		}
		c.Evidence = append(c.Evidence, Evidence{Source: "probe:" + t.Name + ":capture " + t.Interface, Kind: "probe-capture", Node: t.Name, Lines: lines})
	}
	rep := Diagnose(c)
	lf := liveFindings(c, &liveFacts{self: self, others: others, probes: probes, capture: captured})
	rep = augment(c, rep, lf)
	live.Took = time.Since(start)
	return rep, live
}

// downPeers returns the peers to probe: onlyPeer when given, else every
// configured neighbor whose protocol is not Established (all of them when
// BIRD did not answer).
func downPeers(g *nodeGather, onlyPeer string) []netip.AddrPort {
	var out []netip.AddrPort
	seen := map[string]bool{}
	addPeer := func(a string, port int) {
		ip, err := netip.ParseAddr(a)
		if err != nil || seen[a] || (onlyPeer != "" && a != onlyPeer) {
			return
		}
		seen[a] = true
		if port == 0 {
			port = 179
		}
		out = append(out, netip.AddrPortFrom(ip, uint16(port)))
	}
	if onlyPeer != "" {
		port := 0
		if g.cfg != nil {
			for _, p := range g.cfg.Peers {
				if p.Neighbor == onlyPeer {
					port = p.Port
				}
			}
		}
		addPeer(onlyPeer, port)
		return out
	}
	up := map[string]bool{}
	for _, p := range g.protocols {
		if p.Proto == "BGP" && p.Established() {
			up[p.NeighborAddress] = true
		}
	}
	if g.cfg != nil {
		for _, p := range g.cfg.Peers {
			if !up[p.Neighbor] {
				addPeer(p.Neighbor, p.Port)
			}
		}
	}
	for _, p := range g.protocols {
		if p.Proto == "BGP" && !p.Established() {
			addPeer(p.NeighborAddress, p.NeighborPort)
		}
	}
	for _, s := range g.router {
		if !s.Established() {
			addPeer(s.Peer, 0)
		}
	}
	return out
}

// upPeers returns the peers whose session with g is Established.
func upPeers(g *nodeGather) []string {
	var out []string
	for _, p := range g.protocols {
		if p.Proto == "BGP" && p.Established() && p.NeighborAddress != "" {
			out = appendUnique(out, p.NeighborAddress)
		}
	}
	for _, s := range g.router {
		if s.Established() {
			out = appendUnique(out, s.Peer)
		}
	}
	return out
}

// gatherUp reads what a peer whose session is still Established can add
// without asking its daemons: its bird.cfg (timers, AS, router id) and
// its namespace (addresses, listeners, firewall rules that are about to
// break the session).
func gatherUp(t NodeTarget) *nodeGather {
	g := &nodeGather{t: t}
	g.readConfig(t)
	g.readNamespace(t)
	return g
}

// probeSpec says how the node's BIRD would connect to peer.
func (g *nodeGather) probeSpec(nsPath string, peer netip.AddrPort) probeSpec {
	spec := probeSpec{NSPath: nsPath, Peer: peer}
	if g.cfg == nil {
		return spec
	}
	spec.LocalAS = g.cfg.LocalAS
	spec.RouterID, _ = netip.ParseAddr(g.cfg.RouterID)
	for _, p := range g.cfg.Peers {
		if p.Neighbor != peer.Addr().String() {
			continue
		}
		if p.LocalAS != 0 {
			spec.LocalAS = p.LocalAS
		}
		spec.Source, _ = netip.ParseAddr(p.Source)
		spec.Password = p.Password
	}
	if !spec.Source.IsValid() && g.cfg.ListenAddress != "" {
		spec.Source, _ = netip.ParseAddr(g.cfg.ListenAddress)
	}
	return spec
}

// SaveArtifacts writes gathered text as an artifacts folder: dir/<node>/<file>,
// folders 0700 and files 0600, with passwords (BIRD's MD5 `password`, YAML
// and JSON password fields) replaced by a fingerprint that keeps equal
// passwords equal, so the folder can be attached to an issue and still be
// diagnosed.
func SaveArtifacts(dir string, arts []Artifact) error {
	r := newRedactor()
	for _, a := range arts {
		p := filepath.Join(dir, a.Node, a.File)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return fmt.Errorf("diagnose: save artifacts: %w", err)
		}
		if err := os.WriteFile(p, r.redact(a.Data), 0o600); err != nil {
			return fmt.Errorf("diagnose: save artifacts: %w", err)
		}
	}
	return nil
}
