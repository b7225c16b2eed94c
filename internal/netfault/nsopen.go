package netfault

import (
	"fmt"

	"github.com/google/nftables"
	"github.com/vishvananda/netlink"
	vnetns "github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// openNFT returns an nftables connection whose netlink socket lives in the
// namespace at nsPath. The socket keeps the namespace, so the descriptor of
// the namespace is closed before returning. The caller must call
// CloseLasting.
func openNFT(nsPath string) (*nftables.Conn, error) {
	fd, err := unix.Open(nsPath, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open namespace %s: %w", nsPath, err)
	}
	defer unix.Close(fd)
	conn, err := nftables.New(nftables.WithNetNSFd(fd), nftables.AsLasting())
	if err != nil {
		return nil, fmt.Errorf("nftables netlink socket in %s: %w", nsPath, err)
	}
	return conn, nil
}

// openNetlink returns an rtnetlink handle whose sockets live in the
// namespace at nsPath. The caller must call Close.
func openNetlink(nsPath string) (*netlink.Handle, error) {
	ns, err := vnetns.GetFromPath(nsPath)
	if err != nil {
		return nil, fmt.Errorf("open namespace %s: %w", nsPath, err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return nil, fmt.Errorf("rtnetlink socket in %s: %w", nsPath, err)
	}
	return h, nil
}
