package diagnose

import (
	"path"
	"strings"

	"github.com/peerlab/peerlab/internal/lazy"
)

// calicoctlDiagsFiles are the files `calicoctl node diags` writes into its
// diagnostics/ folder (calicoctl/commands/node/diags.go): command outputs
// named after the command, Calico's log folder copied to logs/.
var calicoctlDiagsFiles = map[string]bool{
	"date": true, "hostname": true, "netstat": true,
	"ipv4_route": true, "ipv6_route": true, "ipv4_addr": true, "ipv6_addr": true,
	"ipv4_tables": true, "ipv6_tables": true, "ipsets": true, "ipset_container": true,
	"journalctl_calico_node": true,
}

// hostnameRE is what a usable `hostname` output looks like.
var hostnameRE = lazy.Regexp(`^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$`)

// cleanHostname returns the node name a `hostname` output gives, or ""
// when it holds no plausible name.
func cleanHostname(data []byte) string {
	for _, l := range strings.Split(string(data), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			if hostnameRE().MatchString(l) {
				return l
			}
			return ""
		}
	}
	return ""
}

// diagsRoots returns the folders (slash paths relative to the root, ""
// for the root itself) laid out as `calicoctl node diags` writes them: a
// `hostname` file next to at least one other file of its list, or in a
// folder named diagnostics.
func diagsRoots(rels []string) map[string]bool {
	names := map[string]map[string]bool{}
	for _, r := range rels {
		dir, base := splitRel(r)
		if !calicoctlDiagsFiles[base] {
			continue
		}
		if names[dir] == nil {
			names[dir] = map[string]bool{}
		}
		names[dir][base] = true
	}
	out := map[string]bool{}
	for dir, set := range names {
		_, base := splitRel(dir)
		if set["hostname"] && (len(set) >= 2 || base == "diagnostics") {
			out[dir] = true
		}
	}
	return out
}

// splitRel splits a slash path relative to the root into its folder (""
// at the top) and file name.
func splitRel(rel string) (dir, base string) {
	dir, base = path.Split(rel)
	return strings.TrimSuffix(dir, "/"), base
}

// assignNodes names the node of each file of one root (a folder or a
// bundle), given as slash paths relative to it:
//
//   - a file under a `calicoctl node diags` folder belongs to one node
//     with its logs/ sub-folders: when that folder is the root itself or
//     a top folder named "diagnostics" (the tarball's layout), the node is
//     named by the folder's `hostname` file; deeper (bundle/worker3/
//     diagnostics/...), by the top sub-folder, as below;
//   - otherwise a file in a sub-folder belongs to the node named after
//     the top sub-folder (worker3/ss.txt is worker3's);
//   - a file lying directly in the root belongs to fallback (normally the
//     unnamed node "").
//
// hostname reads the `hostname` file of a diags folder.
func assignNodes(rels []string, fallback string, hostname func(dir string) string) []string {
	roots := diagsRoots(rels)
	named := map[string]string{}
	out := make([]string, len(rels))
	for i, r := range rels {
		dir, _ := splitRel(r)
		root, ok := diagsRootOf(roots, dir)
		if ok && (root == "" || root == "diagnostics") {
			name, seen := named[root]
			if !seen {
				name = hostname(root)
				named[root] = name
			}
			if name == "" {
				name = fallback
			}
			out[i] = name
			continue
		}
		if top, _, deeper := strings.Cut(r, "/"); deeper {
			out[i] = top
			continue
		}
		out[i] = fallback
	}
	return out
}

// diagsRootOf returns the deepest diags folder holding dir (dir itself or
// a parent).
func diagsRootOf(roots map[string]bool, dir string) (string, bool) {
	if len(roots) == 0 {
		return "", false
	}
	for {
		if roots[dir] {
			return dir, true
		}
		if dir == "" {
			return "", false
		}
		i := strings.LastIndexByte(dir, '/')
		if i < 0 {
			dir = ""
		} else {
			dir = dir[:i]
		}
	}
}

// stripTopFolder removes the single folder every path of a bundle starts
// with (a tarball of "bundle/" or of calicoctl's "diagnostics/"), so it
// is not taken for a node; it returns rels unchanged when the paths do not
// share one, or share calicoctl's "diagnostics/" (named by its hostname).
func stripTopFolder(rels []string) []string {
	if len(rels) == 0 {
		return rels
	}
	top, _, ok := strings.Cut(rels[0], "/")
	if !ok {
		return rels
	}
	for _, r := range rels[1:] {
		t, _, ok := strings.Cut(r, "/")
		if !ok || t != top {
			return rels
		}
	}
	if top == "diagnostics" {
		// calicoctl's folder stays: assignNodes knows it by this name.
		return rels
	}
	out := make([]string, len(rels))
	for i, r := range rels {
		out[i] = r[len(top)+1:]
	}
	return out
}
