package calicoctl

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
)

// usage is printed for commands the lab's calicoctl does not have.
const usage = `Usage (peerlab's calicoctl, inside a lab node):
  calicoctl node status
  calicoctl get nodes [-o wide]
`

// Main runs calicoctl with args (after argv[0]) and returns the exit
// status. Errors go to stderr, as calicoctl prints them.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var err error
	switch {
	case len(args) >= 2 && args[0] == "node" && args[1] == "status":
		if os.Geteuid() != 0 {
			fmt.Fprintln(stdout, "This command must be run as root.")
			return 1
		}
		err = nodeStatus(stdout, processes())
	case len(args) >= 2 && args[0] == "get" && isNodes(args[1]):
		wide := false
		for i := 2; i < len(args); i++ {
			switch a := args[i]; {
			case a == "-o" && i+1 < len(args):
				i++
				wide = args[i] == "wide"
			case a == "-owide" || a == "-o=wide" || a == "--output=wide":
				wide = true
			}
		}
		err = getNodes(ctx, stdout, wide)
	default:
		fmt.Fprintf(stdout, "Invalid option: '%s'. Use flag '--help' to read about a specific subcommand.\n%s", strings.Join(args, " "), usage)
		return 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s\n", err)
		return 1
	}
	return 0
}

// isNodes reports whether s names the node resource.
func isNodes(s string) bool {
	switch strings.ToLower(s) {
	case "node", "nodes", "no":
		return true
	}
	return false
}
