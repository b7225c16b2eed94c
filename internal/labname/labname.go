// Package labname holds the one rule for lab names, shared by the topology
// loader (which refuses a bad name with file:line) and the namespace layer
// (which builds namespace names such as plab-LAB--NODE from it).
package labname

import (
	"fmt"
	"strings"
)

// MaxLen is the longest lab name.
const MaxLen = 32

// Rule says in words what Check accepts, for error messages.
const Rule = `use 1 to 32 lower-case letters, digits and '-', starting with a letter, without "--" and not ending with '-'`

// Check returns why name cannot name a lab, or "" when it can: 1 to MaxLen
// lower-case letters, digits and '-', starting with a letter, not ending
// with '-' and without "--" (the separator of lab and node in namespace
// names).
func Check(name string) string {
	switch {
	case name == "":
		return "must not be empty"
	case len(name) > MaxLen:
		return fmt.Sprintf("is %d bytes long, the limit is %d", len(name), MaxLen)
	case name[0] < 'a' || name[0] > 'z':
		return "must start with a lower-case letter"
	case strings.Contains(name, "--"):
		return `must not contain "--"`
	case strings.HasSuffix(name, "-"):
		return `must not end with "-"`
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return fmt.Sprintf("has %q at byte %d: use lower-case letters, digits and '-'", rune(c), i)
		}
	}
	return ""
}
