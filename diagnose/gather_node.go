package diagnose

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/peerlab/peerlab/internal/bird"
)

// NodeTarget is one node to gather live evidence from: the network
// namespace its daemons run in and where its files are.
type NodeTarget struct {
	// Name labels the node in the report.
	Name string
	// NSPath is the network namespace (e.g. /run/netns/plab-L--n1); ""
	// means the namespace of this process (host mode).
	NSPath string
	// BirdSockets are BIRD control socket paths, tried in order.
	BirdSockets []string
	// BirdConfigs are bird.cfg paths; the first that exists is read.
	BirdConfigs []string
	// BirdLogs are BIRD log files; every one that exists is read (tail).
	BirdLogs []string
	// CalicoLogDir holds calico-node's *.log files, if any.
	CalicoLogDir string
	// NginxConf is kubespray's nginx-proxy config, if any.
	NginxConf string
	// ManifestsDir holds static pod manifests (nginx-proxy.yml).
	ManifestsDir string
	// APIProxy is the local API server proxy address (127.0.0.1:6443).
	APIProxy string
	// Interface is where the capture runs (eth0); "" disables it.
	Interface string
	// Kind is the lab node kind ("bird", "bird2", "gobgp", "injector"),
	// "" outside a lab.
	Kind string
	// Router reads the sessions of a router node (IsRouterKind), which
	// runs no BIRD; nil for Calico nodes.
	Router RouterReader
}

// Artifact is one piece of text evidence gathered live, as it would be
// saved for `peerlab diagnose --artifacts`.
type Artifact struct {
	// Node is the node it belongs to; File its file name in the node's
	// folder; Source where it was read (a path or a command).
	Node, File, Source string
	Data               []byte
}

// maxTail is how much of the end of a log file is read.
const maxTail = 256 << 10

// nodeGather is what the passive gathering of one node found.
type nodeGather struct {
	t         NodeTarget
	artifacts []Artifact
	// cfg is the parsed bird.cfg, if one was read.
	cfg *BirdConfig
	// protocols are BIRD's protocols, when its socket answered.
	protocols []bird.ProtocolDetail
	birdOK    bool
	// listeners are the namespace's listening TCP sockets.
	listeners []procListener
	md5       md5Counters
	nft       []nftRule
	nftErr    error
	api       *apiProxyProbe
	// addrs are the namespace's IPv4 addresses; linksDown names the
	// interfaces that are down.
	addrs     []netip.Addr
	linksDown []string
	// router are a router node's sessions.
	router []RouterSession
	// evidence are probe results to quote; notes what could not be read.
	evidence []Evidence
	notes    []string
}

// fileExists reports whether path names an existing file.
func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// gatherNode reads the node's files, asks its BIRD, reads its sockets,
// counters, addresses and firewall, and probes its API server proxy. It
// takes about as long as the slowest of BIRD's answer (bounded by
// birdTimeout) and the API proxy probes (bounded by apiTimeout).
func gatherNode(ctx context.Context, t NodeTarget, birdTimeout, apiTimeout time.Duration) *nodeGather {
	g := &nodeGather{t: t}
	var mu sync.Mutex
	var wg sync.WaitGroup
	add := func(fn func(*nodeGather)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			part := nodeGather{t: t}
			fn(&part)
			mu.Lock()
			g.merge(&part)
			mu.Unlock()
		}()
	}
	add(func(p *nodeGather) { p.readBird(ctx, t, birdTimeout) })
	add(func(p *nodeGather) { p.readRouter(ctx, t, birdTimeout) })
	add(func(p *nodeGather) { p.readFiles(t) })
	add(func(p *nodeGather) { p.readNamespace(t) })
	if t.NginxConf != "" && fileExists(t.NginxConf) {
		add(func(p *nodeGather) { p.probeAPI(ctx, t, apiTimeout) })
	}
	wg.Wait()
	sort.SliceStable(g.artifacts, func(i, j int) bool { return g.artifacts[i].File < g.artifacts[j].File })
	return g
}

// merge takes the results of one part.
func (g *nodeGather) merge(p *nodeGather) {
	g.artifacts = append(g.artifacts, p.artifacts...)
	if p.cfg != nil {
		g.cfg = p.cfg
	}
	if p.birdOK {
		g.birdOK, g.protocols = true, p.protocols
	}
	g.listeners = append(g.listeners, p.listeners...)
	if p.md5.Seen {
		g.md5 = p.md5
	}
	g.nft = append(g.nft, p.nft...)
	if p.nftErr != nil {
		g.nftErr = p.nftErr
	}
	if p.api != nil {
		g.api = p.api
	}
	g.addrs = append(g.addrs, p.addrs...)
	g.linksDown = append(g.linksDown, p.linksDown...)
	g.router = append(g.router, p.router...)
	g.evidence = append(g.evidence, p.evidence...)
	g.notes = append(g.notes, p.notes...)
}

func (g *nodeGather) artifact(file, source string, data []byte) {
	g.artifacts = append(g.artifacts, Artifact{Node: g.t.Name, File: file, Source: source, Data: data})
}

func (g *nodeGather) note(format string, args ...any) {
	g.notes = append(g.notes, fmt.Sprintf("%s: ", g.t.Name)+fmt.Sprintf(format, args...))
}

// readBird asks BIRD for `show protocols all` on the first socket that
// answers. When none does, it records the failure the way calico-node's
// -bird-ready check words it (a missing socket) or as a hung BIRD (a
// socket that accepts but never greets).
func (g *nodeGather) readBird(ctx context.Context, t NodeTarget, timeout time.Duration) {
	var errs []string
	hung := ""
	for _, sock := range t.BirdSockets {
		if real, err := os.ReadFile(sock + ".path"); err == nil {
			sock = strings.TrimSpace(string(real))
		}
		cctx, cancel := context.WithTimeout(ctx, timeout)
		c, err := bird.Dial(cctx, sock)
		if err != nil {
			cancel()
			if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) || strings.Contains(err.Error(), "timeout") {
				hung = sock
			}
			errs = append(errs, err.Error())
			continue
		}
		lines, err := c.Cmd(cctx, "show protocols all")
		c.Close()
		cancel()
		if err != nil {
			errs = append(errs, err.Error())
			if errors.Is(err, context.DeadlineExceeded) {
				hung = sock
			}
			continue
		}
		var b strings.Builder
		for _, l := range lines {
			b.WriteString(l.String() + "\n")
		}
		data := []byte(b.String())
		g.artifact("birdc-show-protocols-all.txt", "birdc -s "+sock+" show protocols all", data)
		if ds, err := bird.ParseProtocolDetails(strings.NewReader(b.String())); err == nil {
			g.protocols = ds
		}
		g.birdOK = true
		return
	}
	if len(t.BirdSockets) == 0 {
		return
	}
	if hung != "" {
		g.evidence = append(g.evidence, Evidence{Source: "probe:" + g.t.Name + ":bird control socket", Kind: "probe-bird-socket", Node: g.t.Name,
			Lines: []string{fmt.Sprintf("BIRD control socket %s accepts connections but BIRD does not answer within %s: BIRD is hung or stopped", hung, timeout)}})
		g.note("BIRD does not answer on its control socket %s (hung or stopped)", hung)
		return
	}
	msg := fmt.Sprintf("peerlab diagnose (the check calico-node -bird-ready makes): BIRD is not ready: unable to connect to BIRDv4 socket: %s\n", strings.Join(errs, "; "))
	g.artifact("bird-ready.txt", "bird control socket check", []byte(msg))
}

// readFiles reads bird.cfg, BIRD's log, calico-node's logs, nginx.conf
// and the nginx-proxy manifest.
func (g *nodeGather) readFiles(t NodeTarget) {
	g.readConfig(t)
	g.readLogs(t)
}

// readConfig reads and parses the first bird.cfg that exists.
func (g *nodeGather) readConfig(t NodeTarget) {
	for _, p := range t.BirdConfigs {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		g.artifact("bird.cfg", p, data)
		if obs, _, ok := (birdConfig{}).Recognize(p, data); ok && len(obs.BirdConfigs) > 0 {
			cfg := obs.BirdConfigs[0]
			g.cfg = &cfg
		}
		break
	}
}

// readLogs reads BIRD's log, calico-node's logs and nginx.conf.
func (g *nodeGather) readLogs(t NodeTarget) {
	for _, p := range t.BirdLogs {
		if data, err := readTail(p, maxTail); err == nil {
			g.artifact("bird.log", p, data)
		}
	}
	if t.CalicoLogDir != "" {
		logs, _ := filepath.Glob(filepath.Join(t.CalicoLogDir, "*.log"))
		for _, p := range logs {
			if data, err := readTail(p, maxTail); err == nil && len(data) > 0 {
				g.artifact("calico-"+filepath.Base(p), p, data)
			}
		}
	}
	if t.NginxConf != "" {
		if data, err := os.ReadFile(t.NginxConf); err == nil {
			g.artifact("nginx.conf", t.NginxConf, data)
		}
	}
}

// readTail reads at most n bytes from the end of path, from a line start.
func readTail(path string, n int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	off := st.Size() - n
	if off < 0 {
		off = 0
	}
	data, err := io.ReadAll(io.NewSectionReader(f, off, n))
	if err != nil {
		return nil, err
	}
	if off > 0 {
		if i := strings.IndexByte(string(data), '\n'); i >= 0 {
			data = data[i+1:]
		}
	}
	return data, nil
}

// readNamespace reads the namespace's listening sockets, TCP MD5
// counters, addresses, routes and nftables rules.
func (g *nodeGather) readNamespace(t NodeTarget) {
	err := inNamespace(t.NSPath, func() error {
		ls, err := readListeners()
		if err != nil {
			return err
		}
		g.listeners = ls
		if c, err := readMD5Counters(); err == nil {
			g.md5 = c
		}
		return nil
	})
	if err != nil {
		g.note("listening sockets: %v", err)
	} else {
		g.artifact("ss-ltnp.txt", "ss -ltnp (from /proc/net/tcp{,6} in the namespace)", listenersText(g.listeners))
	}
	if g.md5.Seen {
		g.evidence = append(g.evidence, Evidence{Source: "probe:" + t.Name + ":/proc/net/netstat", Kind: "probe-md5-counters", Node: t.Name, Lines: []string{g.md5.String()}})
	}
	if h, err := netlinkHandle(t.NSPath); err != nil {
		g.note("addresses: %v", err)
	} else {
		if data, err := ipAddrText(h); err == nil {
			g.artifact("ip-addr.txt", "ip -4 addr", data)
			g.readAddrs(data)
		}
		if data, err := ipRouteText(h); err == nil {
			g.artifact("ip-route.txt", "ip -4 route", data)
		}
		h.Close()
	}
	g.nft, g.nftErr = listNftRules(t.NSPath)
	if g.nftErr != nil {
		g.note("nftables: %v", g.nftErr)
		return
	}
	lines := []string{}
	for _, r := range g.nft {
		lines = append(lines, r.Text)
	}
	if len(lines) == 0 {
		lines = append(lines, "no nftables rule matches TCP port 179, no source NAT rule and no peerlab table")
	}
	g.evidence = append(g.evidence, Evidence{Source: "probe:" + t.Name + ":nft list ruleset", Kind: "probe-nftables", Node: t.Name, Lines: lines})
}

// readAddrs takes the addresses and down links from the ip-addr text.
func (g *nodeGather) readAddrs(data []byte) {
	obs, _, ok := (ipAddr{}).Recognize("", data)
	if !ok {
		return
	}
	for _, it := range obs.Interfaces {
		for _, p := range it.Prefixes {
			g.addrs = append(g.addrs, p.Addr())
		}
	}
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) > 2 && strings.HasSuffix(f[1], ":") && strings.Contains(l, "state DOWN") {
			g.linksDown = append(g.linksDown, strings.TrimSuffix(f[1], ":"))
		}
	}
}

// probeAPI probes the node's kubespray nginx-proxy path.
func (g *nodeGather) probeAPI(ctx context.Context, t NodeTarget, timeout time.Duration) {
	data, err := os.ReadFile(t.NginxConf)
	if err != nil {
		return
	}
	obs, _, ok := (nginxConfig{}).Recognize(t.NginxConf, data)
	if !ok || len(obs.Nginx) == 0 {
		return
	}
	conf := obs.Nginx[0]
	listen := t.APIProxy
	if listen == "" && len(conf.Listen) > 0 {
		listen = conf.Listen[0]
	}
	if listen == "" {
		listen = "127.0.0.1:6443"
	}
	health := ""
	if conf.HealthzPort != "" {
		health = "127.0.0.1:" + conf.HealthzPort
	}
	manifest := ""
	if t.ManifestsDir != "" {
		manifest = filepath.Join(t.ManifestsDir, "nginx-proxy.yml")
	}
	p := probeAPIProxy(ctx, apiProxySpec{NSPath: t.NSPath, Listen: listen, HealthzAddr: health, Upstreams: conf.Upstreams, Manifest: manifest, Timeout: timeout})
	g.api = &p
	g.evidence = append(g.evidence, Evidence{Source: "probe:" + t.Name + ":api server proxy", Kind: "probe-api-proxy", Node: t.Name, Lines: p.Lines()})
}
