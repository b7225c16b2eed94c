package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/peerlab/peerlab/graph"
	"github.com/peerlab/peerlab/lab"
	"github.com/peerlab/peerlab/lab/topology"
)

// newGraphCommand draws a topology file or a running lab.
func newGraphCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "graph FILE|LAB",
		Short: "Draw a topology or a running lab (dot, svg, mermaid, html)",
		Long: `graph draws the nodes of a topology (filled by kind, roles in the label) and
its sessions as edges. Given the name of a running lab instead of a file, it
colours each edge by the session's state (green Established, orange
connecting, red down: a session still connecting 30 s after it was last
Established, or after the lab started, is drawn down) and attaches the last
error (hover in svg and html).`,
		Example: `  peerlab graph topologies/calico-rr.yaml --format dot | dot -Tpng -o rr.png
  peerlab graph kubespray-proxy-down --format html > lab.html`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			format := a.v.GetString("format")
			if !contains(graph.Formats(), format) {
				return usageErrorf("peerlab graph: --format: %q is not one of %s", format, strings.Join(graph.Formats(), ", "))
			}
			g, err := a.graphOf(cmd, args[0])
			if err != nil {
				return err
			}
			return graph.Render(cmd.OutOrStdout(), g, format)
		},
	}
	cmd.Flags().String("format", "dot", "dot, svg, mermaid or html")
	addStateFlag(cmd)
	return cmd
}

// graphOf builds the picture of a topology file, or of a running lab with
// its sessions' states.
func (a *app) graphOf(cmd *cobra.Command, arg string) (*graph.Graph, error) {
	if _, err := os.Stat(arg); err == nil {
		topo, err := topology.Load(arg)
		if err != nil {
			return nil, usageErrorf("%v", err)
		}
		return graph.FromTopology(topo), nil
	}
	c, st, err := a.dialLab(cmd.Context(), arg)
	if err != nil {
		if topo, terr := loadTopologyArg(arg, ""); terr == nil {
			return graph.FromTopology(topo), nil
		}
		return nil, fmt.Errorf("peerlab graph: %s is neither a file, a built-in lab nor a running lab: %w", arg, err)
	}
	defer c.Close()
	topo, err := topology.Load(st.Source)
	if err != nil {
		return nil, fmt.Errorf("topology of lab %s: %w", arg, err)
	}
	r, err := c.Status(cmd.Context())
	if err != nil {
		return nil, fmt.Errorf("status of lab %s: %w", arg, err)
	}
	g := graph.FromTopology(topo)
	ends := make([]graph.EndState, 0, len(r.Sessions))
	for _, s := range r.Sessions {
		ends = append(ends, graph.EndState{Local: s.Local, Remote: s.Remote, State: s.State, LastError: s.LastError,
			DownFor: downFor(r, s.Local, s.Remote, s.State)})
	}
	g.ApplyStates(ends)
	return g, nil
}

// downFor is how long one end of a session has not been Established: since
// the timeline last shows it leave Established, else since the lab started.
func downFor(r lab.Report, local, remote, state string) time.Duration {
	if state == "Established" {
		return 0
	}
	since := int64(0)
	for _, e := range r.Timeline {
		if e.Local == local && e.Remote == remote && e.From == "Established" {
			since = e.AtMS
		}
	}
	return time.Duration(r.ElapsedMS-since) * time.Millisecond
}

// contains tells whether list holds s.
func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
