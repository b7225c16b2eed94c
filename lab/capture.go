package lab

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"

	"go.uber.org/zap"

	"github.com/peerlab/peerlab/capture"
	"github.com/peerlab/peerlab/internal/netns"
)

// Interfaces recorded by lab captures.
const (
	// NodeInterface is a node's interface on the lab bridge, inside its
	// namespace: every session of the node crosses it.
	NodeInterface = "eth0"
	// HubInterface is the lab bridge in the hub namespace: every link at once.
	HubInterface = "br0"
	// loopbackInterface carries every session of a loopback-mode lab.
	loopbackInterface = "lo"
)

// LoopbackCaptureFile is the file a loopback-mode lab records to in its
// capture folder (namespace mode writes one <node>.pcapng per node).
const LoopbackCaptureFile = "lo.pcapng"

// labCaptures are the captures a lab records for Options.CaptureDir.
type labCaptures struct {
	caps  []*capture.Capture
	files []string
}

// startCaptures begins recording the lab's BGP traffic into dir before any
// node starts, so the first SYNs are in: in namespace mode one capture
// per node on its eth0 (dir/<node>.pcapng), in loopback mode one on "lo"
// narrowed to the lab's port and 127.A.0.0/16 block (dir/lo.pcapng).
// On error, the captures already started are stopped.
func (l *Lab) startCaptures(dir string, port int) (err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("capture folder: %w", err)
	}
	lc := &labCaptures{}
	defer func() {
		if err != nil {
			_ = lc.stop()
		}
	}()
	log := l.log.Named("capture")
	if l.ns != nil {
		for _, name := range l.order {
			path := filepath.Join(dir, name+".pcapng")
			var c *capture.Capture
			err := l.ns.namespace(name).Do(func() error {
				var err error
				c, err = capture.Start(context.Background(), capture.Options{
					Interface: NodeInterface, Ports: []int{port}, Path: path,
					Logger: log.With(zap.String("node", name)),
				})
				return err
			})
			if err != nil {
				return fmt.Errorf("capture node %s: %w", name, err)
			}
			lc.caps, lc.files = append(lc.caps, c), append(lc.files, path)
		}
		l.captures = lc
		return nil
	}
	if l.plan == nil {
		return errors.New("capture: the lab has no network plan")
	}
	block := netip.PrefixFrom(netip.AddrFrom4([4]byte{127, l.plan.block, 0, 0}), 16)
	path := filepath.Join(dir, LoopbackCaptureFile)
	c, err := capture.Start(context.Background(), capture.Options{
		Interface: loopbackInterface, Ports: []int{port}, Networks: []netip.Prefix{block}, Path: path,
		Logger: log,
	})
	if err != nil {
		return fmt.Errorf("capture on %s (loopback mode needs root or CAP_NET_RAW to capture): %w", loopbackInterface, err)
	}
	lc.caps, lc.files = append(lc.caps, c), append(lc.files, path)
	l.captures = lc
	return nil
}

// stop ends every capture, flushing and closing its file.
func (lc *labCaptures) stop() error {
	var errs []error
	for _, c := range lc.caps {
		errs = append(errs, c.Stop())
	}
	return errors.Join(errs...)
}

// stopCaptures ends the lab's captures, if any.
func (l *Lab) stopCaptures() error {
	if l.captures == nil {
		return nil
	}
	return l.captures.stop()
}

// CaptureFiles lists the pcapng files the lab records to (Options.
// CaptureDir), in node order; nil when the lab captures nothing. They are
// complete once Down returns.
func (l *Lab) CaptureFiles() []string {
	if l.captures == nil {
		return nil
	}
	var out []string
	for _, c := range l.captures.caps {
		out = append(out, c.Files()...)
	}
	return out
}

// CaptureTarget says where to capture the traffic of a running
// namespace-mode lab: the namespace file and the interface in it.
type CaptureTarget struct {
	// NSPath is the namespace file, e.g. /run/netns/plab-mesh--node1.
	NSPath string
	// Interface is eth0 for a node, br0 for the whole lab.
	Interface string
}

// CaptureTargetOf finds where to capture a running lab: node's eth0 in its
// namespace, or with node "" the lab bridge br0 in the hub namespace
// (every link at once). Loopback-mode labs have no namespace: capture on
// "lo" with `peerlab capture live` instead.
func CaptureTargetOf(st LabState, node string) (CaptureTarget, error) {
	if st.Mode != ModeNamespace {
		return CaptureTarget{}, fmt.Errorf("lab %s runs in %s mode: capturing a running lab needs namespace mode (use 'peerlab capture live -i lo --port PORT' for a loopback lab)", st.Name, st.Mode)
	}
	if node == "" {
		return CaptureTarget{NSPath: filepath.Join(netns.RunDir, netns.HubNamespace(st.Name)), Interface: HubInterface}, nil
	}
	if _, ok := st.Nodes[node]; !ok {
		return CaptureTarget{}, fmt.Errorf("lab %s has no node %s", st.Name, node)
	}
	return CaptureTarget{NSPath: netns.NamespacePathOf(st.Name, node), Interface: NodeInterface}, nil
}

// StartCapture records a running namespace-mode lab from another process
// (it must be root): opts.Interface and, for the bridge, Promiscuous are
// set from the target. Stop the capture to finish its file.
func StartCapture(ctx context.Context, t CaptureTarget, opts capture.Options) (*capture.Capture, error) {
	opts.Interface = t.Interface
	opts.Promiscuous = t.Interface == HubInterface
	if len(opts.Ports) == 0 {
		opts.Ports = []int{namespaceBGPPort}
	}
	c, err := capture.StartIn(ctx, t.NSPath, opts)
	if err != nil {
		return nil, fmt.Errorf("capture %s in %s: %w", t.Interface, t.NSPath, err)
	}
	return c, nil
}
