package bird

import (
	"os"
	"path/filepath"
)

// Binaries locates one BIRD version's daemon and client.
type Binaries struct {
	// Bird is the daemon, e.g. /usr/sbin/bird.
	Bird string
	// Birdc is the command-line client.
	Birdc string
}

// DefaultCacheDir is where .ci/install-daemons.sh unpacks bird2 unless
// PEERLAB_CACHE says otherwise.
const DefaultCacheDir = "/var/cache/peerlab"

// DefaultBinaries returns where .ci/install-daemons.sh puts BIRD: Debian's
// bird 1.6 in /usr/sbin, and bird2 unpacked under
// ${PEERLAB_CACHE:-/var/cache/peerlab}/bird2/usr/sbin (the two packages
// conflict, so bird2 is not installed system-wide).
func DefaultBinaries(v Version) Binaries {
	if v == Bird1 {
		return Binaries{Bird: "/usr/sbin/bird", Birdc: "/usr/sbin/birdc"}
	}
	cache := os.Getenv("PEERLAB_CACHE")
	if cache == "" {
		cache = DefaultCacheDir
	}
	dir := filepath.Join(cache, "bird2", "usr", "sbin")
	return Binaries{Bird: filepath.Join(dir, "bird"), Birdc: filepath.Join(dir, "birdc")}
}
