package netfault

import (
	"context"
	"fmt"
	"sync"

	"github.com/vishvananda/netlink"
	"go.uber.org/zap"
	"golang.org/x/sys/unix"
)

// NameLinkDown is the registry name of the fault made by [NewLinkDown].
const NameLinkDown = "link-down"

// LinkDownAlias is the interface alias that marks a link taken down by
// link-down (`ip link` shows it as "alias peerlab:link-down"). Heal acts
// only on a link that carries it.
const LinkDownAlias = "peerlab:link-down"

// linkDown sets an interface administratively down and up again.
type linkDown struct {
	mu    sync.Mutex
	saved map[string]linkState // by nsPath + "\x00" + ifname
}

// linkState is what taking a link down loses and Heal puts back.
type linkState struct {
	alias  string
	addrs  []netlink.Addr
	routes []netlink.Route
}

// NewLinkDown returns the link-down fault: [Target.Interface] (eth0 by
// default) is set administratively down, so every session over it loses
// its path, and up again on Heal. Taking a link down makes the kernel drop
// its static routes and IPv6 addresses; Heal by the same instance puts
// them back (the instance remembers them from Inject). Heal by another
// instance or process only sets the link up.
func NewLinkDown() Fault { return &linkDown{saved: map[string]linkState{}} }

// Name implements Fault.
func (f *linkDown) Name() string { return NameLinkDown }

// Inject implements Fault.
func (f *linkDown) Inject(ctx context.Context, t Target) error {
	err := f.inject(ctx, t)
	if err != nil {
		return fmt.Errorf("inject %s: %w", describe(NameLinkDown, t), err)
	}
	t.logger(NameLinkDown).Info("fault injected", zap.String("interface", t.iface()))
	return nil
}

func (f *linkDown) inject(ctx context.Context, t Target) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := t.validate(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	h, err := openNetlink(t.NSPath)
	if err != nil {
		return err
	}
	defer h.Close()
	link, err := h.LinkByName(t.iface())
	if err != nil {
		return fmt.Errorf("find %s: %w", t.iface(), err)
	}
	if link.Attrs().Alias == LinkDownAlias {
		return fmt.Errorf("%w: %s is marked %q", ErrAlreadyInjected, t.iface(), LinkDownAlias)
	}
	state, err := snapshotLink(h, link)
	if err != nil {
		return err
	}
	if err := h.LinkSetAlias(link, LinkDownAlias); err != nil {
		return fmt.Errorf("mark %s: %w", t.iface(), err)
	}
	if err := h.LinkSetDown(link); err != nil {
		_ = h.LinkSetAlias(link, state.alias)
		return fmt.Errorf("set %s down: %w", t.iface(), err)
	}
	f.saved[t.NSPath+"\x00"+t.iface()] = state
	return nil
}

// Heal implements Fault.
func (f *linkDown) Heal(ctx context.Context, t Target) error {
	healed, err := f.heal(ctx, t)
	if err != nil {
		return fmt.Errorf("heal %s: %w", describe(NameLinkDown, t), err)
	}
	if healed {
		t.logger(NameLinkDown).Info("fault healed", zap.String("interface", t.iface()))
	}
	return nil
}

func (f *linkDown) heal(ctx context.Context, t Target) (bool, error) {
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
	link, err := h.LinkByName(t.iface())
	if err != nil {
		return false, fmt.Errorf("find %s: %w", t.iface(), err)
	}
	if link.Attrs().Alias != LinkDownAlias {
		return false, nil
	}
	if err := h.LinkSetUp(link); err != nil {
		return false, fmt.Errorf("set %s up: %w", t.iface(), err)
	}
	key := t.NSPath + "\x00" + t.iface()
	state := f.saved[key]
	if err := restoreLink(h, link, state); err != nil {
		return false, err
	}
	if err := h.LinkSetAlias(link, state.alias); err != nil {
		return false, fmt.Errorf("unmark %s: %w", t.iface(), err)
	}
	delete(f.saved, key)
	return true, nil
}

// snapshotLink records link's alias, its addresses other than IPv6
// link-local ones (which the kernel makes again) and its main-table routes
// other than those the kernel derives from addresses.
func snapshotLink(h *netlink.Handle, link netlink.Link) (linkState, error) {
	state := linkState{alias: link.Attrs().Alias}
	addrs, err := h.AddrList(link, netlink.FAMILY_ALL)
	if err != nil {
		return state, fmt.Errorf("list addresses of %s: %w", link.Attrs().Name, err)
	}
	for _, a := range addrs {
		if a.IP.To4() == nil && a.IP.IsLinkLocalUnicast() {
			continue
		}
		state.addrs = append(state.addrs, a)
	}
	routes, err := h.RouteListFiltered(netlink.FAMILY_ALL, &netlink.Route{LinkIndex: link.Attrs().Index}, netlink.RT_FILTER_OIF)
	if err != nil {
		return state, fmt.Errorf("list routes via %s: %w", link.Attrs().Name, err)
	}
	for _, r := range routes {
		if r.Protocol == unix.RTPROT_KERNEL {
			continue
		}
		state.routes = append(state.routes, r)
	}
	return state, nil
}

// restoreLink puts state's addresses and routes back on link; those still
// present are replaced by themselves.
func restoreLink(h *netlink.Handle, link netlink.Link, state linkState) error {
	for _, a := range state.addrs {
		addr := &netlink.Addr{IPNet: a.IPNet, Peer: a.Peer, Label: a.Label, Scope: a.Scope}
		if a.IP.To4() == nil {
			addr.Flags = unix.IFA_F_NODAD
		}
		if err := h.AddrReplace(link, addr); err != nil {
			return fmt.Errorf("restore address %v on %s: %w", a.IPNet, link.Attrs().Name, err)
		}
	}
	for _, r := range state.routes {
		r := r
		r.LinkIndex = link.Attrs().Index
		if err := h.RouteReplace(&r); err != nil {
			return fmt.Errorf("restore route %v via %s: %w", r.Dst, link.Attrs().Name, err)
		}
	}
	return nil
}
