package netns

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/peerlab/peerlab/internal/labname"
)

const (
	// Prefix starts the name of every namespace a lab makes.
	Prefix = "plab-"
	// nodeSep separates the lab name from the node name in a namespace name.
	nodeSep = "--"
	// RunDir is where named network namespaces are bind-mounted, as with
	// `ip netns add`.
	RunDir = "/run/netns"
	// BridgeName is the name of the bridge in every hub namespace.
	BridgeName = "br0"
	// NodeIfName is the name of a node's interface on the lab bridge.
	NodeIfName = "eth0"

	maxNodeName      = 63
	maxNamespaceName = 64
	maxIfName        = 15 // IFNAMSIZ - 1
	hashLen          = 8
	hashMark         = "~" // never valid in a lab or node name
)

// shortHash returns hashLen hex characters identifying parts.
func shortHash(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:hashLen]
}

// validName reports why s is not a valid lab or node name, or "" if it is:
// 1..max letters, digits, '.', '_' and '-', starting with a letter or digit.
func validName(s string, max int) string {
	switch {
	case s == "":
		return "must not be empty"
	case len(s) > max:
		return fmt.Sprintf("is %d bytes long, the limit is %d", len(s), max)
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case i > 0 && (r == '.' || r == '_' || r == '-'):
		default:
			return fmt.Sprintf("has %q at byte %d: use letters, digits, '.', '_' and '-', starting with a letter or digit", r, i)
		}
	}
	return ""
}

// ValidateLabName returns an error wrapping [ErrInvalidSpec] unless name
// can name a lab.
func ValidateLabName(name string) error {
	if why := labname.Check(name); why != "" {
		return fmt.Errorf("%w: lab name %q %s", ErrInvalidSpec, name, why)
	}
	return nil
}

// HubNamespace returns the name of lab's hub namespace.
func HubNamespace(lab string) string { return Prefix + lab }

// NodeNamespace returns the name of the namespace of node in lab. When the
// plain name would pass 64 bytes, the tail of the node name is replaced by
// "~" and a hash of lab and node, which no valid node name contains.
func NodeNamespace(lab, node string) string {
	name := Prefix + lab + nodeSep + node
	if len(name) <= maxNamespaceName {
		return name
	}
	suffix := hashMark + shortHash(lab, node)
	keep := maxNamespaceName - len(Prefix+lab+nodeSep) - len(suffix)
	return Prefix + lab + nodeSep + node[:keep] + suffix
}

// hubIfName returns the name of node's veth end in the hub namespace.
func hubIfName(lab, node string) string { return "v" + shortHash(lab, node) }

// linkIfName returns the default name, in the namespace of one node, of the
// nth (from 0) point-to-point link to peer: p-<peer>, or p-<peer>.<n>,
// replaced by p-<4 bytes of peer>~<hash> when longer than 15 bytes.
func linkIfName(peer string, n int) string {
	name := "p-" + peer
	if n > 0 {
		name += "." + strconv.Itoa(n)
	}
	if len(name) <= maxIfName {
		return name
	}
	head := peer
	if len(head) > 4 {
		head = head[:4]
	}
	return "p-" + head + hashMark + shortHash(peer, strconv.Itoa(n))
}

// validIfName reports why s cannot name a network interface, or "".
func validIfName(s string) string {
	switch {
	case s == "" || s == "." || s == "..":
		return "is not an interface name"
	case len(s) > maxIfName:
		return fmt.Sprintf("is %d bytes long, Linux allows %d", len(s), maxIfName)
	case strings.ContainsAny(s, "/: \t\n\r\v\f"):
		return "contains '/', ':' or white space"
	}
	return ""
}

// parseNamespace splits a namespace name made by this package into its lab
// and node part. node is "" for a hub; ok is false for foreign names.
func parseNamespace(name string) (lab, node string, ok bool) {
	rest, found := strings.CutPrefix(name, Prefix)
	if !found || rest == "" {
		return "", "", false
	}
	lab, node, _ = strings.Cut(rest, nodeSep)
	if lab == "" {
		return "", "", false
	}
	return lab, node, true
}

// belongsTo reports whether namespace name was made for lab, or for any lab
// when lab is "".
func belongsTo(name, lab string) bool {
	l, _, ok := parseNamespace(name)
	return ok && (lab == "" || l == lab)
}
