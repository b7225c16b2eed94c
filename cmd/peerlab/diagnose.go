package main

import (
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/peerlab/peerlab/diagnose"
)

// newDiagnoseCommand explains why BGP sessions are not Established from
// evidence collected on the nodes.
func newDiagnoseCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "diagnose --artifacts PATH...",
		Short: "Explain why Calico/BIRD BGP sessions are not Established",
		Long: `diagnose reads evidence collected on Calico nodes and explains why BGP
sessions are down ("BIRD is not ready: BGP not established with ..."): findings
ranked most likely first, each with a cause from the catalogue
(docs/diagnosis.md), a confidence, the evidence lines it rests on and
remediation steps.

--artifacts takes files and folders. Each file is recognised by its content,
not its name: calicoctl node status, birdc show protocols [all], readiness
messages, calico-node and BIRD logs, bird.cfg, nginx.conf, ss -ltnp, dmesg,
ip -4 addr, ip route, kubectl get nodes -o wide, Calico manifests. Files in a
sub-folder of a given folder belong to the node named after the sub-folder
(artifacts/worker3/...); other files to one unnamed node.

Exit status: 0 healthy, 1 findings, 2 usage error (bad flags, unreadable path).`,
		Example: `  peerlab diagnose --artifacts ./bundle
  peerlab diagnose --artifacts status.txt bird.cfg --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.diagnose(cmd)
		},
	}
	f := cmd.Flags()
	f.StringSlice("artifacts", nil, "files or folders of collected evidence (repeat or comma-separate)")
	f.StringP("output", "o", "text", "report format: "+strings.Join(diagnose.Formats, " or "))
	return cmd
}

// diagnose runs the artifacts diagnosis and maps the verdict to the exit status.
func (a *app) diagnose(cmd *cobra.Command) error {
	paths, _ := cmd.Flags().GetStringSlice("artifacts")
	output := a.v.GetString("output")
	if !slices.Contains(diagnose.Formats, output) {
		return usageErrorf("peerlab diagnose: --output %q: want %s", output, strings.Join(diagnose.Formats, " or "))
	}
	if len(paths) == 0 {
		return usageErrorf("peerlab diagnose: give --artifacts PATH... (lab and host modes are coming)\nUsage: %s", cmd.UseLine())
	}
	c, err := diagnose.LoadArtifacts(paths, diagnose.ArtifactOptions{})
	if err != nil {
		// Every load error is about the paths given: a usage error.
		return usageErrorf("peerlab diagnose: %v", err)
	}
	rep := diagnose.Diagnose(c)
	a.log.Debug("diagnosis done")
	if err := diagnose.WriteReport(cmd.OutOrStdout(), rep, output); err != nil {
		return err
	}
	if code := rep.ExitCode(); code != diagnose.ExitHealthy {
		return &exitError{code: code}
	}
	return nil
}
