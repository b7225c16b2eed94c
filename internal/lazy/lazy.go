// Package lazy builds values on first use that a package would otherwise
// build when the binary starts.
//
// Every node of a namespace lab (peerlab-init, the GoBGP agent,
// calico-node, calicoctl) is the peerlab binary started again, so each
// package-level regexp.MustCompile or template.Parse is paid by thousands
// of processes that never use it. A value built here is compiled by the
// first caller, once, and shared (read-only) after that.
package lazy

import (
	"regexp"
	"sync"
)

// Regexp returns a function that compiles pattern on its first call and
// returns the same *regexp.Regexp on every call. Like regexp.MustCompile
// it panics if pattern does not compile, on that first call.
func Regexp(pattern string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(pattern) })
}
