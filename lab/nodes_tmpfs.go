package lab

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// nodesTmpfsSize bounds the memory a namespace lab's node folders may
// take: configs, control sockets and the nodes' logs.
const nodesTmpfsSize = "size=25%"

// nodesDir is the folder holding a lab's node folders (<lab>/nodes).
func nodesDir(labDir string) string { return filepath.Join(labDir, "nodes") }

// mountNodeFolders mounts a tmpfs at the lab's nodes folder for a
// namespace lab, before its node hosts are cloned (they must see it). A
// node makes three to four files and folders there as it starts (its
// folder, the agent's socket and log, BIRD's config and socket), and a
// thousand-node lab makes thousands: on a disk file system that cost
// about half a millisecond each on the project's machines (an ext4
// without journal scans past recently deleted inodes, which the last
// lab's teardown left), on tmpfs a few microseconds, and tearing down
// deletes nothing on disk.
func mountNodeFolders(labDir string) error {
	dir := nodesDir(labDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create nodes folder: %w", err)
	}
	// Its source names the folder, so every bind of a node file names the
	// lab in /proc/*/mountinfo, as a bind from the disk did.
	if err := unix.Mount(dir, dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755,"+nodesTmpfsSize); err != nil {
		return fmt.Errorf("mount tmpfs at %s: %w", dir, err)
	}
	// Private: it does not show in other mount namespaces that share the
	// host's mounts (other labs' nodes, containers).
	if err := unix.Mount("", dir, "", unix.MS_PRIVATE, ""); err != nil {
		_ = unix.Unmount(dir, unix.MNT_DETACH)
		return fmt.Errorf("make %s private: %w", dir, err)
	}
	return nil
}

// removeLabDir removes a lab's folder, first unmounting the tmpfs of its
// node folders when there is one (mountNodeFolders): after a SIGKILL too,
// where it is all that is left of the mount.
func removeLabDir(labDir string) error {
	err := unix.Unmount(nodesDir(labDir), unix.MNT_DETACH)
	// EINVAL: not a mount point; ENOENT: no such folder; EPERM: not root,
	// so no lab of this user mounted it.
	if err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.EPERM) {
		return fmt.Errorf("unmount node folders of %s: %w", labDir, err)
	}
	return os.RemoveAll(labDir)
}
