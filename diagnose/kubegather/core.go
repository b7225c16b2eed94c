package kubegather

import (
	"context"
	"fmt"
	"io"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/remotecommand"
)

// CoreReader is what the gatherer reads from the core/v1 API: the nodes,
// a namespace's pods and events, and the tail of a container's log.
//
// It stands in for client-go's typed clientset, which links in (and
// initialises at every start of the peerlab binary) the schemes of every
// built-in API group although the gatherer reads four core resources.
type CoreReader interface {
	// Nodes lists the cluster's nodes.
	Nodes(ctx context.Context) (*corev1.NodeList, error)
	// Pods lists namespace's pods.
	Pods(ctx context.Context, namespace string) (*corev1.PodList, error)
	// Events lists namespace's events.
	Events(ctx context.Context, namespace string) (*corev1.EventList, error)
	// Logs reads the last tail lines of a pod's container log.
	Logs(ctx context.Context, namespace, pod, container string, tail int64) ([]byte, error)
}

// coreClient is a CoreReader over a core/v1 REST client; it also builds
// the exec URLs of pods.
type coreClient struct {
	rest   *rest.RESTClient
	params runtime.ParameterCodec
}

// newCoreClient returns a core/v1 client of cfg, set up as client-go's
// generated core/v1 client sets up its own (path /api, group version v1,
// JSON), with a scheme that holds core/v1 and meta/v1 only.
func newCoreClient(cfg *rest.Config) (*coreClient, error) {
	scheme := runtime.NewScheme()
	if err := corev1.AddToScheme(scheme); err != nil {
		return nil, fmt.Errorf("core/v1 scheme: %w", err)
	}
	cfg = rest.CopyConfig(cfg)
	gv := corev1.SchemeGroupVersion
	cfg.GroupVersion = &gv
	cfg.APIPath = "/api"
	cfg.NegotiatedSerializer = rest.CodecFactoryForGeneratedClient(scheme, serializer.NewCodecFactory(scheme)).WithoutConversion()
	if cfg.UserAgent == "" {
		cfg.UserAgent = rest.DefaultKubernetesUserAgent()
	}
	rc, err := rest.RESTClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("core/v1 client: %w", err)
	}
	return &coreClient{rest: rc, params: runtime.NewParameterCodec(scheme)}, nil
}

// list reads a core/v1 list into out, preferring protobuf as client-go's
// typed clients of nodes, pods and events do.
func (c *coreClient) list(ctx context.Context, namespace, resource string, out runtime.Object) error {
	return c.rest.Get().UseProtobufAsDefault().NamespaceIfScoped(namespace, namespace != "").
		Resource(resource).Do(ctx).Into(out)
}

// Nodes lists the cluster's nodes.
func (c *coreClient) Nodes(ctx context.Context) (*corev1.NodeList, error) {
	l := &corev1.NodeList{}
	return l, c.list(ctx, "", "nodes", l)
}

// Pods lists namespace's pods.
func (c *coreClient) Pods(ctx context.Context, namespace string) (*corev1.PodList, error) {
	l := &corev1.PodList{}
	return l, c.list(ctx, namespace, "pods", l)
}

// Events lists namespace's events.
func (c *coreClient) Events(ctx context.Context, namespace string) (*corev1.EventList, error) {
	l := &corev1.EventList{}
	return l, c.list(ctx, namespace, "events", l)
}

// Logs reads the last tail lines of a pod's container log.
func (c *coreClient) Logs(ctx context.Context, namespace, pod, container string, tail int64) ([]byte, error) {
	return c.rest.Get().Namespace(namespace).Name(pod).Resource("pods").SubResource("log").
		VersionedParams(&corev1.PodLogOptions{Container: container, TailLines: &tail}, c.params).DoRaw(ctx)
}

// execFunc runs commands in pods through cfg's API server over WebSocket
// (v5.channel.k8s.io), as kubectl does by default since 1.30.
func (c *coreClient) execFunc(cfg *rest.Config) ExecFunc {
	return func(ctx context.Context, namespace, pod, container string, argv []string, stdout, stderr io.Writer) error {
		req := c.rest.Post().Resource("pods").Namespace(namespace).Name(pod).SubResource("exec").
			VersionedParams(&corev1.PodExecOptions{Container: container, Command: argv, Stdout: true, Stderr: true}, c.params)
		ex, err := remotecommand.NewWebSocketExecutor(cfg, "GET", req.URL().String())
		if err != nil {
			return fmt.Errorf("exec in %s/%s: %w", namespace, pod, err)
		}
		return ex.StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: stdout, Stderr: stderr})
	}
}
