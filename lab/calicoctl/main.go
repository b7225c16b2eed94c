package calicoctl

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/peerlab/peerlab/lab/k8s"
)

// usage is printed for commands the lab's calicoctl does not have.
const usage = `Usage (peerlab's calicoctl, inside a lab node):
  calicoctl node status
  calicoctl get nodes|bgpconfig|bgppeer [NAME] [-o wide|yaml|json]
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
	case len(args) >= 2 && args[0] == "get":
		k, ok := findKind(args[1])
		if !ok {
			fmt.Fprintf(stderr, "Failed to get resources: resource type '%s' is not supported\n", args[1])
			return 1
		}
		only, output := "", ""
		for i := 2; i < len(args); i++ {
			switch a := args[i]; {
			case (a == "-o" || a == "--output") && i+1 < len(args):
				i++
				output = args[i]
			case strings.HasPrefix(a, "--output="):
				output = strings.TrimPrefix(a, "--output=")
			case strings.HasPrefix(a, "-o"):
				output = strings.TrimPrefix(strings.TrimPrefix(a, "-o"), "=")
			case !strings.HasPrefix(a, "-") && only == "":
				only = a
			}
		}
		err = getResources(ctx, stdout, k, only, output)
		if err != nil && k.kind == k8s.KindCalicoNode && only == "" && (output == "" || output == "wide") && strings.Contains(err.Error(), "404") {
			// An API server without Calico's resources: the Kubernetes
			// nodes' annotations, as before.
			err = getNodes(ctx, stdout, output == "wide")
		}
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
