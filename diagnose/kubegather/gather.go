package kubegather

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	utilexec "k8s.io/client-go/util/exec"

	"github.com/peerlab/peerlab/diagnose"
)

// ErrUnreachable is returned when the API server does not list the nodes:
// without them nothing can be gathered.
var ErrUnreachable = errors.New("kubegather: the API server did not list the nodes")

// ExecFunc runs argv in a pod's container and copies its output; an error
// that carries an exit status (k8s.io/client-go/util/exec.ExitError) means
// the command ran and failed, any other that it did not answer.
type ExecFunc func(ctx context.Context, namespace, pod, container string, argv []string, stdout, stderr io.Writer) error

// Source is the cluster as the gatherer reads it.
type Source struct {
	// Kube reads nodes, pods, events and logs.
	Kube CoreReader
	// Dynamic reads Calico's resources; nil leaves them out.
	Dynamic dynamic.Interface
	// Exec runs commands in calico-node; nil leaves them out.
	Exec ExecFunc
}

// Result is what a cluster gathering found.
type Result struct {
	// Cluster is what the recognisers made of the artifacts.
	Cluster *diagnose.Cluster
	// Artifacts are the gathered texts: cluster-wide ones with no node
	// (kubectl-get-nodes.txt, ...), the others by the node their pod runs
	// on, ready for diagnose.SaveArtifacts.
	Artifacts []diagnose.Artifact
	// Unanswered names the nodes whose calico-node did not answer every
	// call (timed out, failed, not running), sorted.
	Unanswered []string
	// Took is how long gathering took.
	Took time.Duration
}

// podCommand is one command run in every calico-node pod. A non-zero
// exit status is an answer too (the readiness check fails while BIRD is
// not ready, birdcl when BIRD does not run, cat when confd rendered no
// bird.cfg): what it printed is the evidence.
type podCommand struct {
	file string
	argv []string
}

// podCommands are run in each calico-node pod, read-only.
var podCommands = []podCommand{
	{"birdcl-show-protocols-all.txt", []string{"birdcl", "-s", BirdSocket, "show", "protocols", "all"}},
	{"bird.cfg", []string{"cat", BirdConfig}},
	{"calico-node-bird-ready.txt", []string{"calico-node", "-bird-ready"}},
}

// calicoResources are the crd.projectcalico.org/v1 resources read.
var calicoResources = []string{"bgpconfigurations", "bgppeers", "nodes"}

// gatherer holds one gathering's state.
type gatherer struct {
	src  Source
	opts Options
	now  time.Time

	mu         sync.Mutex
	notes      []string
	unanswered map[string]bool
	// recs holds what perNode's workers recognised, by source.
	recs map[string]diagnose.Recognition
}

func (g *gatherer) note(format string, args ...any) {
	g.mu.Lock()
	g.notes = append(g.notes, fmt.Sprintf(format, args...))
	g.mu.Unlock()
}

func (g *gatherer) fail(node string) {
	g.mu.Lock()
	g.unanswered[node] = true
	g.mu.Unlock()
}

// call runs f with the per-call timeout under ctx.
func (g *gatherer) call(ctx context.Context, f func(ctx context.Context) error) error {
	cctx, cancel := context.WithTimeout(ctx, g.opts.CallTimeout)
	defer cancel()
	err := f(cctx)
	if err != nil && cctx.Err() != nil && ctx.Err() == nil {
		return fmt.Errorf("no answer within %s: %w", g.opts.CallTimeout, err)
	}
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("the total time limit (%s) ran out: %w", g.opts.Total, err)
	}
	return err
}

// Gather reads the cluster through src and recognises what it read. It
// returns ErrUnreachable (wrapped) when the nodes cannot be listed; any
// other failure leaves the result partial and is said in
// Result.Cluster.Unknowns.
func Gather(ctx context.Context, src Source, opts Options) (*Result, error) {
	opts.defaults()
	start := time.Now()
	g := &gatherer{src: src, opts: opts, now: start, unanswered: map[string]bool{}, recs: map[string]diagnose.Recognition{}}
	tctx, cancel := context.WithTimeout(ctx, opts.Total)
	defer cancel()

	var nodes *corev1.NodeList
	if err := g.call(tctx, func(c context.Context) (err error) {
		nodes, err = src.Kube.Nodes(c)
		return err
	}); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	sort.Slice(nodes.Items, func(i, j int) bool { return nodes.Items[i].Name < nodes.Items[j].Name })
	arts := []diagnose.Artifact{{File: "kubectl-get-nodes.txt", Source: "kubectl get nodes -o wide", Data: renderNodes(nodes.Items, start)}}

	var pods *corev1.PodList
	if err := g.call(tctx, func(c context.Context) (err error) {
		pods, err = src.Kube.Pods(c, Namespace)
		return err
	}); err != nil {
		g.note("kube-system pods: not listed: %v; no calico-node was asked", err)
		pods = &corev1.PodList{}
	}
	sort.Slice(pods.Items, func(i, j int) bool { return pods.Items[i].Name < pods.Items[j].Name })
	if len(pods.Items) > 0 {
		arts = append(arts, diagnose.Artifact{File: "kubectl-get-pods.txt", Source: "kubectl get pods -n kube-system -o wide", Data: renderPods(pods.Items, start)})
	}
	arts = append(arts, g.calicoResources(tctx)...)
	byNode := g.perNode(tctx, nodes.Items, pods.Items)
	names := make([]string, 0, len(byNode))
	for n := range byNode {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		arts = append(arts, byNode[n]...)
	}

	res := &Result{Artifacts: arts, Took: time.Since(start)}
	for n := range g.unanswered {
		res.Unanswered = append(res.Unanswered, n)
	}
	sort.Strings(res.Unanswered)
	c := &diagnose.Cluster{}
	for _, a := range arts {
		if a.Node != "" {
			c.NodeNamed(a.Node)
		}
	}
	for _, a := range arts {
		src := source(a)
		rec, ok := g.recs[src]
		if !ok {
			rec = opts.Registry.Recognize(src, a.Data)
		}
		if len(rec.Evidence) == 0 && strings.HasPrefix(a.File, "events-") {
			continue // events that say nothing the recognisers know: no noise in the unknowns
		}
		c.Add(a.Node, src, rec)
	}
	c.Unknowns = append(c.Unknowns, g.notes...)
	if len(res.Unanswered) > 0 {
		c.Unknowns = append(c.Unknowns, fmt.Sprintf("partial evidence: %s did not answer every call; findings about %s rest on what the others show",
			strings.Join(res.Unanswered, ", "), map[bool]string{true: "it", false: "them"}[len(res.Unanswered) == 1]))
	}
	res.Cluster = c
	opts.Log.Debug("cluster gathered", zap.Int("nodes", len(nodes.Items)), zap.Int("artifacts", len(arts)),
		zap.Strings("unanswered", res.Unanswered), zap.Duration("took", res.Took))
	return res, nil
}

// calicoResources reads Calico's BGP resources as YAML lists; a resource
// the API does not serve is noted.
func (g *gatherer) calicoResources(ctx context.Context) []diagnose.Artifact {
	if g.src.Dynamic == nil {
		return nil
	}
	var out []diagnose.Artifact
	for _, r := range calicoResources {
		var data []byte
		err := g.call(ctx, func(c context.Context) error {
			l, err := g.src.Dynamic.Resource(calicoGVR(r)).List(c, metav1.ListOptions{})
			if err != nil {
				return err
			}
			data, err = renderYAML(l)
			return err
		})
		switch {
		case apierrors.IsNotFound(err):
			g.note("crd.projectcalico.org/v1 %s: the API server does not serve them; Calico's %s were not read", r, r)
		case err != nil:
			g.note("crd.projectcalico.org/v1 %s: not read: %v", r, err)
		default:
			out = append(out, diagnose.Artifact{File: "calico-" + r + ".yaml",
				Source: "kubectl get " + r + ".crd.projectcalico.org -o yaml", Data: data})
		}
	}
	return out
}

// job is one call made for a node.
type job struct {
	node string
	run  func(ctx context.Context) (diagnose.Artifact, bool)
}

// perNode gathers each node's evidence, Parallel calls at a time: its
// pods' events, and from its calico-node pod the commands and the log.
func (g *gatherer) perNode(ctx context.Context, nodes []corev1.Node, pods []corev1.Pod) map[string][]diagnose.Artifact {
	out := map[string][]diagnose.Artifact{}
	evs := g.events(ctx)
	calico := map[string]corev1.Pod{}
	for _, p := range pods {
		if p.Labels["k8s-app"] == "calico-node" && p.Spec.NodeName != "" {
			calico[p.Spec.NodeName] = p
		}
		if e := evs[p.Name]; len(e) > 0 && p.Spec.NodeName != "" {
			out[p.Spec.NodeName] = append(out[p.Spec.NodeName], diagnose.Artifact{Node: p.Spec.NodeName,
				File: "events-" + p.Name + ".txt", Source: "kubectl get events -n kube-system --field-selector involvedObject.name=" + p.Name,
				Data: renderEvents(e, g.now)})
		}
	}
	var jobs []job
	for _, n := range nodes {
		p, ok := calico[n.Name]
		if !ok {
			if len(pods) > 0 {
				g.note("%s: no calico-node pod runs on it; its BIRD was not asked", n.Name)
			}
			continue
		}
		if p.Status.Phase != corev1.PodRunning {
			g.note("%s: pod %s is %s", n.Name, p.Name, podStatus(p))
		}
		jobs = append(jobs, g.podJobs(n.Name, p)...)
	}
	results := make([]struct {
		a  diagnose.Artifact
		ok bool
	}, len(jobs))
	recs := make([]diagnose.Recognition, len(jobs))
	sem := make(chan struct{}, g.opts.Parallel)
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				g.note("%s: not asked: the total time limit (%s) ran out", j.node, g.opts.Total)
				g.fail(j.node)
				return
			}
			results[i].a, results[i].ok = j.run(ctx)
			<-sem
			// Recognised here, while other calls wait on the network.
			if results[i].ok {
				recs[i] = g.opts.Registry.Recognize(source(results[i].a), results[i].a.Data)
			}
		}()
	}
	wg.Wait()
	for i, r := range results {
		if r.ok {
			out[r.a.Node] = append(out[r.a.Node], r.a)
			g.recs[source(r.a)] = recs[i]
		}
	}
	return out
}

// source names an artifact as the evidence quotes it: node/file, or the
// file of a cluster-wide one.
func source(a diagnose.Artifact) string {
	if a.Node == "" {
		return a.File
	}
	return a.Node + "/" + a.File
}

// events lists kube-system's events by the pod they are about.
func (g *gatherer) events(ctx context.Context) map[string][]corev1.Event {
	var l *corev1.EventList
	if err := g.call(ctx, func(c context.Context) (err error) {
		l, err = g.src.Kube.Events(c, Namespace)
		return err
	}); err != nil {
		g.note("kube-system events: not listed: %v", err)
		return nil
	}
	out := map[string][]corev1.Event{}
	for _, e := range l.Items {
		if e.InvolvedObject.Kind == "Pod" {
			out[e.InvolvedObject.Name] = append(out[e.InvolvedObject.Name], e)
		}
	}
	return out
}

// podJobs are the calls made to node's calico-node pod p.
func (g *gatherer) podJobs(node string, p corev1.Pod) []job {
	var jobs []job
	if g.src.Exec != nil {
		for _, pc := range podCommands {
			jobs = append(jobs, job{node, func(ctx context.Context) (diagnose.Artifact, bool) {
				var stdout, stderr bytes.Buffer
				err := g.call(ctx, func(c context.Context) error {
					return g.src.Exec(c, Namespace, p.Name, CalicoContainer, pc.argv, &stdout, &stderr)
				})
				var exit utilexec.ExitError
				answered := err == nil || errors.As(err, &exit)
				if !answered {
					g.note("%s: exec %q in pod %s: %v", node, strings.Join(pc.argv, " "), p.Name, err)
					g.fail(node)
				}
				data := append(stdout.Bytes(), stderr.Bytes()...)
				return diagnose.Artifact{Node: node, File: pc.file, Source: "kubectl exec -n kube-system " + p.Name + " -c " + CalicoContainer + " -- " + strings.Join(pc.argv, " "), Data: data},
					len(data) > 0
			}})
		}
	}
	jobs = append(jobs, job{node, func(ctx context.Context) (diagnose.Artifact, bool) {
		var data []byte
		err := g.call(ctx, func(c context.Context) (err error) {
			data, err = g.src.Kube.Logs(c, Namespace, p.Name, CalicoContainer, g.opts.Tail)
			return err
		})
		if err != nil {
			g.note("%s: logs of pod %s: %v", node, p.Name, err)
			g.fail(node)
			return diagnose.Artifact{}, false
		}
		return diagnose.Artifact{Node: node, File: "calico-node.log",
			Source: fmt.Sprintf("kubectl logs -n kube-system %s -c %s --tail %d", p.Name, CalicoContainer, g.opts.Tail), Data: data}, len(data) > 0
	}})
	return jobs
}
