package netns

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"sync"
	"time"

	"go.uber.org/zap"
)

// Lab is a set of network namespaces made by [Create]. Its methods are safe
// for concurrent use; none may be called from inside a function given to
// [Lab.Do] on the same lab together with [Lab.Destroy].
type Lab struct {
	name string
	log  *zap.Logger

	mu        sync.RWMutex // write-held by Destroy only
	destroyed bool
	hub       namedNS
	nodes     map[string]*labNode
	order     []string // node names in spec order
}

// labNode is one node namespace of a lab.
type labNode struct {
	name string
	ns   string // namespace name
	h    namedNS
}

// Name returns the lab name.
func (l *Lab) Name() string { return l.name }

// Nodes returns the node names in the order of the spec.
func (l *Lab) Nodes() []string { return append([]string(nil), l.order...) }

// Namespace returns the name of node's namespace under /run/netns, usable
// with `ip netns exec`.
func (l *Lab) Namespace(node string) (string, error) {
	n, ok := l.nodes[node]
	if !ok {
		return "", fmt.Errorf("lab %s: %w: %q", l.name, ErrNodeNotFound, node)
	}
	return n.ns, nil
}

// NamespacePath returns the path of node's namespace, e.g. for nsenter.
func (l *Lab) NamespacePath(node string) (string, error) {
	ns, err := l.Namespace(node)
	if err != nil {
		return "", err
	}
	return nsPath(ns), nil
}

// HubNamespace returns the name of the lab's hub namespace.
func (l *Lab) HubNamespace() string { return HubNamespace(l.name) }

// node returns node's namespace with l.mu read-held; the caller must call
// l.mu.RUnlock when it returns no error.
func (l *Lab) node(name string) (*labNode, error) {
	l.mu.RLock()
	if l.destroyed {
		l.mu.RUnlock()
		return nil, fmt.Errorf("lab %s: %w", l.name, ErrDestroyed)
	}
	n, ok := l.nodes[name]
	if !ok {
		l.mu.RUnlock()
		return nil, fmt.Errorf("lab %s: %w: %q", l.name, ErrNodeNotFound, name)
	}
	return n, nil
}

// Create builds the lab described by spec: the hub namespace and its
// bridge, then every node namespace with lo up, eth0 on the bridge and its
// addresses, then the point-to-point links, then the routes. Nodes are
// built a few at a time. On any failure, including ctx ending, Create
// removes every namespace it made before returning the error. It returns
// an error wrapping ErrLabExists if the hub namespace of the lab exists.
// A nil log logs nothing.
func Create(ctx context.Context, spec LabSpec, log *zap.Logger) (*Lab, error) {
	return create(ctx, spec, log, nil)
}

// stageHook, in tests, is called after each build step: "hub", "node" (i
// is the index of the node built), "nodes", "links", "routes". An error
// from it fails Create.
type stageHook func(stage string, i int) error

func create(ctx context.Context, spec LabSpec, log *zap.Logger, hook stageHook) (lab *Lab, err error) {
	if log == nil {
		log = zap.NewNop()
	}
	p, err := spec.validate()
	if err != nil {
		return nil, err
	}
	if hook == nil {
		hook = func(string, int) error { return nil }
	}
	start := time.Now()
	p.static = spec.Neighbors.static(p)
	p.noIPv6 = p.static && !p.hasIPv6()
	log = log.With(zap.String("lab", p.name))
	l := &Lab{name: p.name, log: log, nodes: make(map[string]*labNode, len(p.nodes))}
	b := &builder{plan: p, lab: l, hook: hook}
	nodes := make([]*labNode, len(p.nodes))
	defer func() {
		if err == nil {
			return
		}
		l.hub.close()
		for _, n := range nodes {
			if n != nil {
				n.h.close()
			}
		}
		if _, rerr := removeNamespaces(context.WithoutCancel(ctx), b.madeNames(), log); rerr != nil {
			err = errors.Join(err, fmt.Errorf("roll back: %w", rerr))
		}
		lab = nil
	}()
	if err := ensureRunDir(); err != nil {
		return nil, fmt.Errorf("lab %s: %w", p.name, err)
	}
	if err := b.buildHub(); err != nil {
		return nil, err
	}
	if err := hook("hub", 0); err != nil {
		return nil, err
	}
	if err := parallel(ctx, len(p.nodes), defaultWorkers, func(i int) error {
		n, err := b.buildNode(i)
		if err != nil {
			return err
		}
		nodes[i] = n
		return hook("node", i)
	}); err != nil {
		return nil, fmt.Errorf("lab %s: %w", p.name, err)
	}
	for i, n := range nodes {
		l.nodes[n.name] = n
		l.order = append(l.order, p.nodes[i].spec.Name)
	}
	if err := hook("nodes", len(nodes)); err != nil {
		return nil, err
	}
	if err := parallel(ctx, len(p.links), defaultWorkers, b.buildLink); err != nil {
		return nil, fmt.Errorf("lab %s: %w", p.name, err)
	}
	if err := hook("links", len(p.links)); err != nil {
		return nil, err
	}
	if err := parallel(ctx, len(p.nodes), defaultWorkers, b.addRoutes); err != nil {
		return nil, fmt.Errorf("lab %s: %w", p.name, err)
	}
	if err := hook("routes", len(p.nodes)); err != nil {
		return nil, err
	}
	log.Info("lab created", zap.Int("nodes", len(p.nodes)), zap.Int("links", len(p.links)),
		zap.Bool("static_neighbors", p.static), zap.Bool("nodes_ipv6_off", p.noIPv6), zap.Duration("took", time.Since(start)))
	return l, nil
}

// Destroy kills every process left in the lab's namespaces (SIGTERM, then
// SIGKILL after a grace period) and removes the namespaces, which takes
// every interface of the lab with them. It is idempotent.
func (l *Lab) Destroy() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.destroyed {
		return nil
	}
	l.destroyed = true
	start := time.Now()
	l.closeHandles()
	names := []string{HubNamespace(l.name)}
	for _, node := range l.order {
		names = append(names, l.nodes[node].ns)
	}
	removed, err := removeNamespaces(context.Background(), names, l.log)
	if err != nil {
		return fmt.Errorf("destroy lab %s: %w", l.name, err)
	}
	l.log.Info("lab destroyed", zap.Int("namespaces", removed.Namespaces),
		zap.Int("processes", removed.Processes), zap.Duration("took", time.Since(start)))
	return nil
}

// closeHandles closes the lab's netlink sockets and namespace descriptors.
func (l *Lab) closeHandles() {
	l.hub.close()
	for _, n := range l.nodes {
		n.h.close()
	}
}

// LabInfo is a lab found on the host by [List].
type LabInfo struct {
	// Name is the lab name.
	Name string
	// Hub reports whether the hub namespace exists.
	Hub bool
	// Namespaces are the names of the lab's namespaces, hub included.
	Namespaces []string
}

// List returns the labs whose namespaces exist under /run/netns, sorted by
// name, whether or not a live process owns them.
func List() ([]LabInfo, error) {
	names, err := labNamespaces("")
	if err != nil {
		return nil, err
	}
	byLab := map[string]*LabInfo{}
	for _, ns := range names {
		lab, node, _ := parseNamespace(ns)
		info := byLab[lab]
		if info == nil {
			info = &LabInfo{Name: lab}
			byLab[lab] = info
		}
		info.Namespaces = append(info.Namespaces, ns)
		if node == "" {
			info.Hub = true
		}
	}
	out := make([]LabInfo, 0, len(byLab))
	for _, info := range byLab {
		sort.Strings(info.Namespaces)
		out = append(out, *info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// labNamespaces returns the names under RunDir that belong to lab, or to
// any lab when lab is "".
func labNamespaces(lab string) ([]string, error) {
	entries, err := os.ReadDir(RunDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", RunDir, err)
	}
	var names []string
	for _, e := range entries {
		if belongsTo(e.Name(), lab) {
			names = append(names, e.Name())
		}
	}
	return names, nil
}
