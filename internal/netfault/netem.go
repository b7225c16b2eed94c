package netfault

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/vishvananda/netlink"
	"go.uber.org/zap"
	"golang.org/x/sys/unix"
)

// NameNetem is the registry name of the fault made by [NewNetem].
const NameNetem = "netem"

// NetemHandle is the handle, 504c:0, of the root qdisc netem installs
// (`tc qdisc` shows it as "qdisc netem 504c: root"). Heal removes only a
// root qdisc with this handle.
const NetemHandle uint32 = 0x504c << 16

// NetemParams says how netem degrades a link.
type NetemParams struct {
	// Delay is added to every packet leaving the interface.
	Delay time.Duration
	// Jitter varies Delay by up to this much either way.
	Jitter time.Duration
	// LossPercent of the packets leaving the interface are dropped,
	// 0 to 100.
	LossPercent float64
}

// DefaultNetemParams are the parameters of netem in [Default]: 100 ms of
// delay, no jitter, no loss.
func DefaultNetemParams() NetemParams { return NetemParams{Delay: 100 * time.Millisecond} }

// validate refuses parameters netem cannot apply, or that do nothing.
func (p NetemParams) validate() error {
	switch {
	case p.Delay < 0 || p.Jitter < 0:
		return fmt.Errorf("%w: netem: delay %v and jitter %v must not be negative", ErrInvalidTarget, p.Delay, p.Jitter)
	case p.Delay > time.Duration(math.MaxUint32)*time.Microsecond:
		return fmt.Errorf("%w: netem: delay %v is too long", ErrInvalidTarget, p.Delay)
	case p.Jitter > p.Delay:
		return fmt.Errorf("%w: netem: jitter %v exceeds delay %v", ErrInvalidTarget, p.Jitter, p.Delay)
	case math.IsNaN(p.LossPercent) || p.LossPercent < 0 || p.LossPercent > 100:
		return fmt.Errorf("%w: netem: loss %v%% is not between 0 and 100", ErrInvalidTarget, p.LossPercent)
	case p.Delay == 0 && p.LossPercent == 0:
		return fmt.Errorf("%w: netem: neither delay nor loss given", ErrInvalidTarget)
	}
	return nil
}

// netemFault puts a netem qdisc at the root of an interface.
type netemFault struct {
	params NetemParams
	mu     sync.Mutex // serialises Inject and Heal of this instance
}

// NewNetem returns the netem fault with parameters p: a netem qdisc at the
// root of [Target.Interface] (eth0 by default) delays and drops every
// packet the node sends on it, BGP or not. Invalid parameters make Inject
// fail. Heal removes the qdisc, whatever parameters it was injected with.
func NewNetem(p NetemParams) Fault { return &netemFault{params: p} }

// Name implements Fault.
func (f *netemFault) Name() string { return NameNetem }

// Inject implements Fault.
func (f *netemFault) Inject(ctx context.Context, t Target) error {
	if err := f.inject(ctx, t); err != nil {
		return fmt.Errorf("inject %s: %w", describe(NameNetem, t), err)
	}
	t.logger(NameNetem).Info("fault injected", zap.String("interface", t.iface()),
		zap.Duration("delay", f.params.Delay), zap.Duration("jitter", f.params.Jitter),
		zap.Float64("loss_percent", f.params.LossPercent))
	return nil
}

func (f *netemFault) inject(ctx context.Context, t Target) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := t.validate(); err != nil {
		return err
	}
	if err := f.params.validate(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	h, err := openNetlink(t.NSPath)
	if err != nil {
		return err
	}
	defer h.Close()
	link, ours, err := findNetem(h, t.iface())
	if err != nil {
		return err
	}
	if ours != nil {
		return fmt.Errorf("%w: %s has root qdisc %s", ErrAlreadyInjected, t.iface(), netlink.HandleStr(NetemHandle))
	}
	q := netlink.NewNetem(netlink.QdiscAttrs{
		LinkIndex: link.Attrs().Index,
		Handle:    NetemHandle,
		Parent:    netlink.HANDLE_ROOT,
	}, netlink.NetemQdiscAttrs{
		Latency: uint32(f.params.Delay / time.Microsecond),
		Jitter:  uint32(f.params.Jitter / time.Microsecond),
		Loss:    float32(f.params.LossPercent),
	})
	if err := h.QdiscAdd(q); err != nil {
		if errors.Is(err, unix.ENOENT) {
			// The kernel does not know the qdisc kind "netem".
			return fmt.Errorf("add netem qdisc to %s: %w: no netem qdisc (CONFIG_NET_SCH_NETEM): %w", t.iface(), ErrUnsupported, err)
		}
		return fmt.Errorf("add netem qdisc to %s: %w", t.iface(), err)
	}
	return nil
}

// Heal implements Fault.
func (f *netemFault) Heal(ctx context.Context, t Target) error {
	healed, err := f.heal(ctx, t)
	if err != nil {
		return fmt.Errorf("heal %s: %w", describe(NameNetem, t), err)
	}
	if healed {
		t.logger(NameNetem).Info("fault healed", zap.String("interface", t.iface()))
	}
	return nil
}

func (f *netemFault) heal(ctx context.Context, t Target) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if err := t.validate(); err != nil {
		return false, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	h, err := openNetlink(t.NSPath)
	if err != nil {
		return false, err
	}
	defer h.Close()
	_, ours, err := findNetem(h, t.iface())
	if err != nil || ours == nil {
		return false, err
	}
	if err := h.QdiscDel(ours); err != nil {
		return false, fmt.Errorf("delete netem qdisc of %s: %w", t.iface(), err)
	}
	return true, nil
}

// findNetem returns interface ifname and, if present, the root qdisc with
// NetemHandle on it.
func findNetem(h *netlink.Handle, ifname string) (netlink.Link, netlink.Qdisc, error) {
	link, err := h.LinkByName(ifname)
	if err != nil {
		return nil, nil, fmt.Errorf("find %s: %w", ifname, err)
	}
	qdiscs, err := h.QdiscList(link)
	if err != nil {
		return nil, nil, fmt.Errorf("list qdiscs of %s: %w", ifname, err)
	}
	for _, q := range qdiscs {
		a := q.Attrs()
		if a.Parent == netlink.HANDLE_ROOT && a.Handle == NetemHandle {
			return link, q, nil
		}
	}
	return link, nil, nil
}
