package main

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/peerlab/peerlab/diagnose"
)

// newDiagnoseCommand explains why BGP sessions are not Established from
// evidence collected on the nodes.
func newDiagnoseCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "diagnose [FILE|DIR|BUNDLE|- ...] [--lab NAME --node N] [--kubeconfig FILE] [--peer ADDR]",
		Short: "Explain why Calico/BIRD BGP sessions are not Established",
		Long: `diagnose reads evidence collected on Calico nodes and explains why BGP
sessions are down ("BIRD is not ready: BGP not established with ..."): findings
ranked most likely first, each with a cause from the catalogue
(docs/diagnosis.md), a confidence, the evidence lines it rests on and
remediation steps.

Evidence people collected is given as arguments (or with --artifacts, comma-
separated or repeated): files, folders, "-" for standard input (a paste of
one or several command outputs) and tar bundles (.tar, .tar.gz, .tgz, read
in-process), such as the diags-*.tar.gz of 'calicoctl node diags' or a
support bundle with one folder per node. Each file is recognised by its
content, not its name: calicoctl node status, birdc show protocols [all],
readiness messages, calico-node and BIRD logs, bird.cfg, nginx.conf,
ss -ltnp, dmesg, ip -4 addr, ip route, kubectl get nodes -o wide, Calico
manifests. Files in a sub-folder of a given folder or bundle belong to the
node named after the sub-folder (artifacts/worker3/...); other files to one
unnamed node. A bundle's single top folder is not a node; calicoctl's
diagnostics/ folder is one node, named by its hostname file. One file is
read up to 16 MiB, one bundle up to 512 MiB uncompressed.

--lab NAME --node N diagnoses a node of a running namespace lab live: BIRD's
protocols through its control socket, its bird.cfg, logs, listening sockets,
TCP MD5 counters, nftables rules and API server proxy path, a TCP connect and
a BGP OPEN as the node to each peer whose session is down, and a 1 s capture
on eth0; peers that are lab nodes are gathered too, so findings name the node
where the cause lies. The whole diagnosis answers within about 2 s.

--kubeconfig FILE [--context C] diagnoses a whole cluster through its API
server, read-only (CLUSTER mode): the nodes, the kube-system pods (calico-node,
nginx-proxy, haproxy) with their events, Calico's crd.projectcalico.org/v1
BGPConfiguration, BGPPeer and Node resources when the API serves them, and
from each calico-node pod, by exec over WebSocket, 'birdcl show protocols
all', its rendered bird.cfg, 'calico-node -bird-ready' and the tail of its
log (--tail). Each piece is an artifact of the node its pod runs on, read by
the same engine as files, so findings name the node where the cause lies.
--parallel calls at once, --call-timeout per call, --timeout in all; nodes
that do not answer leave the report partial and its unknowns name them.

With no evidence, no --lab and no --kubeconfig, diagnose runs in HOST mode on a real node,
read-only, with the same probes in this host's network namespace; the
--bird-socket, --bird-config, --bird-log, --calico-log-dir, --manifests,
--nginx-conf, --api-proxy and --interface flags override the defaults.
A host with no BIRD socket, no bird.cfg, nothing in /etc/calico and no bird
or calico-node process in its network namespace is not a Calico node: diagnose
says so and exits 2 instead of blaming a peer.
--save-artifacts DIR writes the gathered text (live, host or cluster mode)
for a later artifacts run: files 0600, passwords redacted.

Ctrl-C (or SIGTERM) stops a diagnosis between files and between rules.

Exit status: 0 healthy, 1 findings, 2 usage error (bad flags, unreadable
path, not a Calico node).`,
		Example: `  peerlab diagnose ./bundle
  peerlab diagnose diags-20240501_090000.tar.gz
  peerlab diagnose status.txt bird.cfg --output json
  kubectl -n kube-system logs ds/calico-node | peerlab diagnose -
  peerlab diagnose --lab calico-bird-mesh --node node1
  peerlab diagnose --kubeconfig ~/.kube/config --context prod --save-artifacts ./evidence
  sudo peerlab diagnose --peer 10.0.0.2`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.diagnose(cmd, args)
		},
	}
	f := cmd.Flags()
	f.StringSlice("artifacts", nil, "files, folders, bundles or - (stdin) of collected evidence, as the arguments (repeat or comma-separate)")
	f.StringP("output", "o", "text", "report format: "+strings.Join(diagnose.Formats, " or "))
	f.String("lab", "", "running lab to diagnose live (with --node)")
	f.String("node", "", "node of --lab to diagnose")
	f.String("peer", "", "only probe this peer address")
	f.String("state-dir", "", "folder for lab state (default /run/peerlab as root, else per user)")
	f.String("save-artifacts", "", "write the text gathered live into this folder (<node>/<file>)")
	f.String("bird-socket", "", "host mode: BIRD control socket (default /var/run/calico/bird.ctl, then /var/run/bird/bird.ctl)")
	f.String("bird-config", "", "host mode: bird.cfg (default /etc/calico/confd/config/bird.cfg)")
	f.String("bird-log", "", "host mode: BIRD log file, if any")
	f.String("calico-log-dir", "", "host mode: calico-node *.log folder (default /var/log/calico)")
	f.String("manifests", "", "host mode: static pod manifests (default /etc/kubernetes/manifests)")
	f.String("nginx-conf", "", "host mode: nginx-proxy config (default /etc/nginx/nginx.conf)")
	f.String("api-proxy", "", "host mode: local API server proxy (default 127.0.0.1:6443)")
	f.String("interface", "", "host mode: interface to capture BGP on (default eth0, - for none)")
	addClusterFlags(cmd)
	return cmd
}

// diagnose runs the artifacts, lab or host diagnosis and maps the verdict
// to the exit status.
func (a *app) diagnose(cmd *cobra.Command, args []string) error {
	flagPaths, _ := cmd.Flags().GetStringSlice("artifacts")
	paths := append(append([]string{}, args...), flagPaths...)
	output := a.v.GetString("output")
	if !slices.Contains(diagnose.Formats, output) {
		return usageErrorf("peerlab diagnose: --output %q: want %s", output, strings.Join(diagnose.Formats, " or "))
	}
	fl := cmd.Flags()
	str := func(name string) string { v, _ := fl.GetString(name); return v }
	ctx := cmd.Context()
	var rep diagnose.Report
	switch {
	case str("kubeconfig") != "" || str("context") != "":
		if len(paths) > 0 || str("lab") != "" {
			return usageErrorf("peerlab diagnose: --kubeconfig excludes evidence files and --lab")
		}
		var err error
		if rep, err = a.diagnoseCluster(cmd); err != nil {
			return err
		}
	case len(paths) > 0:
		if str("lab") != "" {
			return usageErrorf("peerlab diagnose: evidence files and --lab exclude each other")
		}
		var err error
		rep, err = diagnose.DiagnoseArtifacts(ctx, paths, diagnose.ArtifactOptions{Stdin: cmd.InOrStdin()})
		switch {
		case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
			return &exitError{code: exitFailed, msg: "peerlab diagnose: interrupted"}
		case err != nil:
			// Every load error is about the paths given: a usage error.
			return usageErrorf("peerlab diagnose: %v", err)
		}
	default:
		var (
			target  diagnose.NodeTarget
			resolve diagnose.PeerResolver
		)
		if name := str("lab"); name != "" {
			if str("node") == "" {
				return usageErrorf("peerlab diagnose: --lab needs --node")
			}
			stateDir := a.stateDir()
			if d := str("state-dir"); d != "" {
				stateDir = d
			}
			var err error
			if target, err = diagnose.LabTarget(stateDir, name, str("node")); err != nil {
				return usageErrorf("peerlab diagnose: %v", err)
			}
			if resolve, err = diagnose.LabResolver(stateDir, name); err != nil {
				return usageErrorf("peerlab diagnose: %v", err)
			}
		} else {
			target = diagnose.HostTarget(diagnose.HostPaths{
				BirdSocket: str("bird-socket"), BirdConfig: str("bird-config"), BirdLog: str("bird-log"),
				CalicoLogDir: str("calico-log-dir"), Manifests: str("manifests"), NginxConf: str("nginx-conf"),
				APIProxy: str("api-proxy"), Interface: str("interface"),
			})
			if p := diagnose.CheckHost(target, ""); !p.CalicoNode() {
				a.log.Debug("host is not a Calico node")
				if err := diagnose.WriteHostVerdict(cmd.OutOrStdout(), p, output); err != nil {
					return err
				}
				return &exitError{code: diagnose.ExitNotCalicoNode}
			}
		}
		var live *diagnose.Live
		rep, live = diagnose.DiagnoseLive(ctx, target, resolve, diagnose.LiveOptions{Peer: str("peer")})
		if ctx.Err() != nil {
			return &exitError{code: exitFailed, msg: "peerlab diagnose: interrupted"}
		}
		if dir := str("save-artifacts"); dir != "" {
			if err := diagnose.SaveArtifacts(dir, live.Artifacts); err != nil {
				return err
			}
		}
		a.log.Debug("live diagnosis done")
	}
	a.log.Debug("diagnosis done")
	if err := diagnose.WriteReport(cmd.OutOrStdout(), rep, output); err != nil {
		return err
	}
	if code := rep.ExitCode(); code != diagnose.ExitHealthy {
		return &exitError{code: code}
	}
	return nil
}
