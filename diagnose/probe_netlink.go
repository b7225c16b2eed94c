package diagnose

import (
	"fmt"
	"strings"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// netlinkHandle opens a rtnetlink handle in the namespace at nsPath ("" for
// the current one).
func netlinkHandle(nsPath string) (*netlink.Handle, error) {
	if nsPath == "" {
		h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
		if err != nil {
			return nil, fmt.Errorf("netlink: %w", err)
		}
		return h, nil
	}
	ns, err := netns.GetFromPath(nsPath)
	if err != nil {
		return nil, fmt.Errorf("netlink: open namespace %s: %w", nsPath, err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("netlink in %s: %w", nsPath, err)
	}
	return h, nil
}

// ipAddrText renders the IPv4 addresses of the namespace as `ip -4 addr`
// prints them, so the ip-addr recognizer reads them.
func ipAddrText(h *netlink.Handle) ([]byte, error) {
	links, err := h.LinkList()
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	var b strings.Builder
	for _, l := range links {
		a := l.Attrs()
		state := "DOWN"
		if a.Flags&unix.IFF_UP != 0 && a.OperState != netlink.OperDown {
			state = "UP"
		}
		if a.Name == "lo" {
			state = "UNKNOWN"
		}
		flags := []string{}
		if a.Flags&unix.IFF_LOOPBACK != 0 {
			flags = append(flags, "LOOPBACK")
		} else {
			flags = append(flags, "BROADCAST", "MULTICAST")
		}
		if a.Flags&unix.IFF_UP != 0 {
			flags = append(flags, "UP")
		}
		if a.RawFlags&unix.IFF_LOWER_UP != 0 {
			flags = append(flags, "LOWER_UP")
		}
		fmt.Fprintf(&b, "%d: %s: <%s> mtu %d state %s\n", a.Index, a.Name, strings.Join(flags, ","), a.MTU, state)
		addrs, err := h.AddrList(l, unix.AF_INET)
		if err != nil {
			return nil, fmt.Errorf("addresses of %s: %w", a.Name, err)
		}
		for _, ad := range addrs {
			fmt.Fprintf(&b, "    inet %s scope %s %s\n", ad.IPNet.String(), scopeName(ad.Scope), a.Name)
		}
	}
	return []byte(b.String()), nil
}

func scopeName(s int) string {
	switch s {
	case unix.RT_SCOPE_HOST:
		return "host"
	case unix.RT_SCOPE_LINK:
		return "link"
	}
	return "global"
}

// ipRouteText renders the main IPv4 table as `ip -4 route` prints it.
func ipRouteText(h *netlink.Handle) ([]byte, error) {
	routes, err := h.RouteList(nil, unix.AF_INET)
	if err != nil {
		return nil, fmt.Errorf("list routes: %w", err)
	}
	names := map[int]string{}
	if links, err := h.LinkList(); err == nil {
		for _, l := range links {
			names[l.Attrs().Index] = l.Attrs().Name
		}
	}
	var b strings.Builder
	for _, r := range routes {
		dst := "default"
		if r.Dst != nil {
			dst = r.Dst.String()
		}
		var parts []string
		switch r.Type {
		case unix.RTN_BLACKHOLE:
			parts = append(parts, "blackhole", dst)
		case unix.RTN_UNREACHABLE:
			parts = append(parts, "unreachable", dst)
		case unix.RTN_PROHIBIT:
			parts = append(parts, "prohibit", dst)
		default:
			parts = append(parts, dst)
		}
		if r.Gw != nil {
			parts = append(parts, "via", r.Gw.String())
		}
		if n, ok := names[r.LinkIndex]; ok {
			parts = append(parts, "dev", n)
		}
		if r.Protocol == unix.RTPROT_KERNEL {
			parts = append(parts, "proto", "kernel")
		} else if r.Protocol == unix.RTPROT_BIRD {
			parts = append(parts, "proto", "bird")
		}
		if r.Scope == unix.RT_SCOPE_LINK {
			parts = append(parts, "scope", "link")
		}
		if r.Src != nil {
			parts = append(parts, "src", r.Src.String())
		}
		b.WriteString(strings.Join(parts, " ") + "\n")
	}
	return []byte(b.String()), nil
}
