package netfault

import (
	"errors"
	"fmt"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// addDelayQdisc puts a netem qdisc with handle NetemHandle at the root of
// link, delaying every packet sent on it by delay ± jitter, and returns
// it. A kernel
// without the netem qdisc answers ENOENT ("Specified qdisc kind is
// unknown"), which becomes an error wrapping ErrUnsupported.
func addDelayQdisc(h *netlink.Handle, link netlink.Link, delay, jitter time.Duration) (netlink.Qdisc, error) {
	q := netlink.NewNetem(netlink.QdiscAttrs{
		LinkIndex: link.Attrs().Index,
		Handle:    NetemHandle,
		Parent:    netlink.HANDLE_ROOT,
	}, netlink.NetemQdiscAttrs{
		Latency: uint32(delay / time.Microsecond),
		Jitter:  uint32(jitter / time.Microsecond),
	})
	ifname := link.Attrs().Name
	if err := h.QdiscAdd(q); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil, fmt.Errorf("add netem qdisc to %s: %w: delay and jitter need the netem qdisc "+
				"(CONFIG_NET_SCH_NETEM), which this kernel lacks; loss-only netem (Delay 0) works "+
				"without it: %w", ifname, ErrUnsupported, err)
		}
		return nil, fmt.Errorf("add netem qdisc to %s: %w", ifname, err)
	}
	return q, nil
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
