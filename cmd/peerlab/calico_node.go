package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/peerlab/peerlab/lab/k8s"
)

// newCalicoNodeCommand is the hidden `peerlab calico-node`: calico-node's
// health checks for a lab node, so that
//
//	peerlab exec LAB worker1 -- peerlab calico-node --bird-ready
//
// answers like `calico-node -bird-ready` in a calico-node pod.
func newCalicoNodeCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:    "calico-node --bird-ready [--socket S]",
		Short:  "calico-node's BIRD readiness check, for lab nodes with role calico-node",
		Hidden: true,
		Long: `calico-node --bird-ready asks the node's BIRD "show protocols" and prints
exactly what calico-node -bird-ready prints when BIRD is not ready, e.g.

  calico/node is not ready: BIRD is not ready: BGP not established with 10.0.0.2

exiting 1; it prints nothing and exits 0 when BIRD is ready. For
--threshold-time after calico-node started (the mtime of
var/lib/calico/nodename) every Mesh_/Node_/Global_ peer must be Established;
afterwards one is enough. Paths default to the node folder in
PEERLAB_NODE_DIR, which peerlab exec sets.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !a.v.GetBool("bird-ready") {
				return usageErrorf("peerlab calico-node: say which check: --bird-ready")
			}
			dir := a.v.GetString("node-dir")
			socket := a.v.GetString("socket")
			if socket == "" {
				if dir == "" {
					return usageErrorf("peerlab calico-node: --socket or PEERLAB_NODE_DIR is required")
				}
				socket = nodeSocket(dir)
			}
			nodename := a.v.GetString("nodename-file")
			if nodename == "" && dir != "" {
				nodename = filepath.Join(dir, "var", "lib", "calico", "nodename")
			}
			started := time.Now()
			if nodename != "" {
				st, err := os.Stat(nodename)
				if err != nil {
					fmt.Fprintln(cmd.OutOrStdout(), k8s.NotReadyMessage(fmt.Errorf("Failed to stat() nodename file: %w", err)))
					return &exitError{code: exitFailed}
				}
				started = st.ModTime()
			}
			msg := k8s.BIRDReady(cmd.Context(), socket, started, a.v.GetDuration("threshold-time"))
			if msg != "" {
				fmt.Fprintln(cmd.OutOrStdout(), msg)
				return &exitError{code: exitFailed}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.Bool("bird-ready", false, "check BIRD's BGP sessions as calico-node -bird-ready does")
	f.String("socket", "", "BIRD control socket (default: the node's, from PEERLAB_NODE_DIR)")
	f.String("node-dir", "", "the lab node's folder (default: PEERLAB_NODE_DIR)")
	f.String("nodename-file", "", "file whose mtime is calico-node's start (default: <node-dir>/var/lib/calico/nodename)")
	f.Duration("threshold-time", k8s.DefaultThreshold, "how long after start every peer must be Established")
	return cmd
}

// nodeSocket is a lab BIRD node's control socket: run/bird.ctl, or the
// path written in run/bird.ctl.path when that was too long for a socket.
func nodeSocket(dir string) string {
	sock := filepath.Join(dir, "run", "bird.ctl")
	if note, err := os.ReadFile(sock + ".path"); err == nil {
		return strings.TrimSpace(string(note))
	}
	return sock
}
