package kubegather

import (
	"time"

	"go.uber.org/zap"

	"github.com/peerlab/peerlab/diagnose"
)

// Defaults of Options.
const (
	// DefaultParallel is how many calico-node pods are asked at once.
	DefaultParallel = 8
	// DefaultCallTimeout bounds one API call (a list, a log, an exec).
	DefaultCallTimeout = 10 * time.Second
	// DefaultTotal bounds the whole gathering.
	DefaultTotal = 60 * time.Second
	// DefaultTail is how many lines of each calico-node log are read.
	DefaultTail = 500
)

// Where calico-node keeps what is read from its pods, and which pods are
// asked.
const (
	// Namespace is where calico-node and the static pods run.
	Namespace = "kube-system"
	// CalicoSelector selects the calico-node pods.
	CalicoSelector = "k8s-app=calico-node"
	// CalicoContainer is the container exec runs in.
	CalicoContainer = "calico-node"
	// BirdSocket is BIRD's control socket in calico-node.
	BirdSocket = "/var/run/calico/bird.ctl"
	// BirdConfig is confd's rendered bird.cfg in calico-node.
	BirdConfig = "/etc/calico/confd/config/bird.cfg"
)

// Options tunes a cluster diagnosis; the zero value means the defaults.
type Options struct {
	// Kubeconfig is the kubeconfig file; "" means the usual loading rules
	// ($KUBECONFIG, then ~/.kube/config).
	Kubeconfig string
	// Context is the kubeconfig context to use; "" means its current one.
	Context string
	// Parallel is how many calico-node pods are asked at once.
	Parallel int
	// CallTimeout bounds each API call; Total the whole gathering.
	CallTimeout, Total time.Duration
	// Tail is how many lines of each calico-node log are read.
	Tail int64
	// Registry recognises the gathered text; nil means
	// diagnose.DefaultRegistry().
	Registry *diagnose.Registry
	// Log receives debug logs; nil means none.
	Log *zap.Logger
}

func (o *Options) defaults() {
	if o.Parallel <= 0 {
		o.Parallel = DefaultParallel
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = DefaultCallTimeout
	}
	if o.Total <= 0 {
		o.Total = DefaultTotal
	}
	if o.Tail <= 0 {
		o.Tail = DefaultTail
	}
	if o.Registry == nil {
		o.Registry = diagnose.DefaultRegistry()
	}
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
}
