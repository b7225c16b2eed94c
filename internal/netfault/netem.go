package netfault

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/google/nftables"
	"github.com/vishvananda/netlink"
	"go.uber.org/zap"
)

// NameNetem is the registry name of the fault made by [NewNetem].
const NameNetem = "netem"

// NetemHandle is the handle, 504c:0, of the root qdisc netem installs
// (`tc qdisc` shows it as "qdisc netem 504c: root"). Heal removes only a
// root qdisc with this handle.
const NetemHandle uint32 = 0x504c << 16

// NetemParams says how netem degrades a link. Delay and Jitter need the
// kernel's netem qdisc; LossPercent does not (see [NewNetem]).
type NetemParams struct {
	// Delay is added to every packet leaving the interface.
	Delay time.Duration
	// Jitter varies Delay by up to this much either way.
	Jitter time.Duration
	// LossPercent of the packets leaving the interface are dropped,
	// 0 to 100, with a resolution of 0.01.
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
	case p.LossPercent > 0 && p.LossPercent < 0.01:
		return fmt.Errorf("%w: netem: loss %v%% is below the resolution of 0.01%%", ErrInvalidTarget, p.LossPercent)
	case p.Delay == 0 && p.LossPercent == 0:
		return fmt.Errorf("%w: netem: neither delay nor loss given", ErrInvalidTarget)
	}
	return nil
}

// netemFault delays packets with a netem qdisc and drops them with an
// nftables rule.
type netemFault struct {
	params NetemParams
	mu     sync.Mutex // serialises Inject and Heal of this instance
}

// NewNetem returns the netem fault with parameters p, which degrades
// every packet the node sends on [Target.Interface] (eth0 by default),
// BGP or not:
//
//   - Delay and Jitter: a netem qdisc with handle [NetemHandle] at the root
//     of the interface. It needs a kernel with CONFIG_NET_SCH_NETEM;
//     without it, Inject with a non-zero Delay fails with an error
//     wrapping [ErrUnsupported] and changes nothing.
//   - LossPercent: a rule in the chain "netem-output" of the inet peerlab
//     table, "oifname <if> numgen random mod 100 < N drop". It works on
//     every kernel with nftables (CONFIG_NFT_NUMGEN), whether or not it
//     has netem. Being on the output hook, it drops IPv4 and IPv6 packets
//     the node sends, not ARP and not forwarded packets.
//
// Invalid parameters make Inject fail. Inject is refused with
// [ErrAlreadyInjected] if either part is present. Heal removes both parts,
// whatever parameters they were injected with.
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

// inject adds the delay qdisc first, because it is the part a kernel may
// refuse, and then the loss chain; if the chain fails, the qdisc is taken
// away again, so a failed Inject leaves nothing behind.
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
	conn, err := openNFT(t.NSPath)
	if err != nil {
		return err
	}
	defer conn.CloseLasting()
	link, ours, err := findNetem(h, t.iface())
	if err != nil {
		return err
	}
	if ours != nil {
		return fmt.Errorf("%w: %s has root qdisc %s", ErrAlreadyInjected, t.iface(), netlink.HandleStr(NetemHandle))
	}
	chains, err := peerlabChains(conn, nftables.TableFamilyINet)
	if err != nil {
		return err
	}
	if _, ok := chains[lossKey()]; ok {
		return fmt.Errorf("%w: chain %s exists in table inet %s", ErrAlreadyInjected, lossChainName, TableName)
	}
	var delay netlink.Qdisc
	if f.params.Delay > 0 {
		if delay, err = addDelayQdisc(h, link, f.params.Delay, f.params.Jitter); err != nil {
			return err
		}
	}
	if f.params.LossPercent > 0 {
		if err := installChains(conn, NameNetem, []chainSpec{lossChain(t.iface(), f.params.LossPercent)}); err != nil {
			err = fmt.Errorf("add loss rule: %w", err)
			if delay != nil {
				if derr := h.QdiscDel(delay); derr != nil {
					err = errors.Join(err, fmt.Errorf("undo: delete netem qdisc of %s: %w", t.iface(), derr))
				}
			}
			return err
		}
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

// heal removes the loss chain and the delay qdisc, each if present, and
// reports whether it removed anything. It tries both even if one fails.
func (f *netemFault) heal(ctx context.Context, t Target) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if err := t.validate(); err != nil {
		return false, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	conn, err := openNFT(t.NSPath)
	if err != nil {
		return false, err
	}
	defer conn.CloseLasting()
	h, err := openNetlink(t.NSPath)
	if err != nil {
		return false, err
	}
	defer h.Close()

	removedLoss, lossErr := removeChains(conn, []chainKey{lossKey()})
	if lossErr != nil {
		lossErr = fmt.Errorf("remove loss rule: %w", lossErr)
	}
	removedDelay, delayErr := false, error(nil)
	_, ours, err := findNetem(h, t.iface())
	switch {
	case err != nil:
		delayErr = err
	case ours != nil:
		if err := h.QdiscDel(ours); err != nil {
			delayErr = fmt.Errorf("delete netem qdisc of %s: %w", t.iface(), err)
		} else {
			removedDelay = true
		}
	}
	return removedLoss || removedDelay, errors.Join(lossErr, delayErr)
}
