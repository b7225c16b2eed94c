package kubegather

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"

	"github.com/peerlab/peerlab/diagnose"
)

// ErrKubeconfig is returned when the kubeconfig cannot be loaded or names
// no usable cluster: a usage error.
var ErrKubeconfig = errors.New("kubegather: kubeconfig")

// Connect loads the kubeconfig (file "" means the usual loading rules)
// and its context ("" means the current one) and returns the clients the
// gatherer reads through. Exec streams over WebSocket (v5.channel.k8s.io),
// as kubectl does by default since 1.30.
func Connect(file, context string) (Source, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if file != "" {
		rules.ExplicitPath = file
	}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: context})
	cfg, err := cc.ClientConfig()
	if err != nil {
		return Source{}, fmt.Errorf("%w: %w", ErrKubeconfig, err)
	}
	return SourceFor(cfg)
}

// SourceFor returns the clients of a REST config. Its rate limit is
// raised so that a 50-node cluster's calls are not queued client-side.
func SourceFor(cfg *rest.Config) (Source, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = 200, 400
	cfg.UserAgent = "peerlab-diagnose"
	core, err := newCoreClient(cfg)
	if err != nil {
		return Source{}, fmt.Errorf("%w: %w", ErrKubeconfig, err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return Source{}, fmt.Errorf("%w: %w", ErrKubeconfig, err)
	}
	return Source{Kube: core, Dynamic: dyn, Exec: core.execFunc(cfg)}, nil
}

// calicoGVR is a crd.projectcalico.org/v1 resource.
func calicoGVR(resource string) schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: "crd.projectcalico.org", Version: "v1", Resource: resource}
}

// renderYAML is a list as `kubectl get -o yaml` prints it.
func renderYAML(l *unstructured.UnstructuredList) ([]byte, error) {
	items := make([]any, len(l.Items))
	for i := range l.Items {
		items[i] = l.Items[i].Object
	}
	data, err := yaml.Marshal(map[string]any{"apiVersion": "v1", "kind": "List", "items": items})
	if err != nil {
		return nil, fmt.Errorf("render yaml: %w", err)
	}
	return data, nil
}

// Diagnose is `peerlab diagnose --kubeconfig FILE`: it connects, gathers
// the cluster within opts' bounds and diagnoses it with the artifacts
// engine. An error wraps ErrKubeconfig (bad kubeconfig), ErrUnreachable
// (no node list) or ctx's error.
func Diagnose(ctx context.Context, opts Options) (diagnose.Report, *Result, error) {
	src, err := Connect(opts.Kubeconfig, opts.Context)
	if err != nil {
		return diagnose.Report{}, nil, err
	}
	return DiagnoseSource(ctx, src, opts)
}

// DiagnoseSource is Diagnose with the clients given.
func DiagnoseSource(ctx context.Context, src Source, opts Options) (diagnose.Report, *Result, error) {
	res, err := Gather(ctx, src, opts)
	if err != nil {
		return diagnose.Report{}, nil, err
	}
	rep, err := diagnose.DiagnoseContext(ctx, res.Cluster)
	if err != nil {
		return diagnose.Report{}, res, err
	}
	return unansweredFinding(rep, res.Unanswered), res, nil
}

// unansweredFinding keeps a report from calling the cluster healthy when
// some nodes did not answer: what they would have shown is not known, so
// it adds a low-confidence "unknown" finding naming them.
func unansweredFinding(rep diagnose.Report, unanswered []string) diagnose.Report {
	if !rep.Healthy || len(unanswered) == 0 {
		return rep
	}
	rep.Healthy = false
	rep.Findings = append(rep.Findings, diagnose.Finding{
		Cause: diagnose.CauseUnknown, Confidence: diagnose.Low,
		Summary: fmt.Sprintf("the nodes that answered show no problem, but %s did not answer every call, so the cluster cannot be called healthy",
			strings.Join(unanswered, ", ")),
		Evidence: []string{},
		Remediation: []string{"run peerlab diagnose --kubeconfig again with a longer --call-timeout or --timeout",
			"on a node that did not answer: kubectl -n kube-system get pod -o wide --field-selector spec.nodeName=<node>; kubectl describe node <node>"},
	})
	return rep
}
