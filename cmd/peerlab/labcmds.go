package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/peerlab/peerlab/internal/bird"
	"github.com/peerlab/peerlab/internal/netns"
	"github.com/peerlab/peerlab/lab"
	pb "github.com/peerlab/peerlab/proto/peerlab/v1"
)

// addStateFlag adds --state-dir to a command that only finds labs.
func addStateFlag(cmd *cobra.Command) {
	cmd.Flags().String("state-dir", "", "folder for lab state (default /run/peerlab as root, else per user)")
}

// statusTimelineRows is how many of the latest state changes the status
// table shows; -o json has them all.
const statusTimelineRows = 30

// newStatusCommand shows a running lab's sessions, timeline and faults.
func newStatusCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "status NAME",
		Short: "Show a running lab's sessions and faults",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			output := a.v.GetString("output")
			if output != "table" && output != "json" {
				return usageErrorf("peerlab status: --output: %q is not table or json", output)
			}
			at := a.v.GetDuration("at")
			if at < 0 {
				return usageErrorf("peerlab status: --at: %s is before the lab started", at)
			}
			return a.printStatus(cmd, args[0], output, at)
		},
	}
	cmd.Flags().StringP("output", "o", "table", "table or json")
	cmd.Flags().Duration("at", 0, "show the lab as it is this long after it started (lab time, as fault schedules count it), waiting until then; at once when that time has passed")
	addStateFlag(cmd)
	return cmd
}

// printStatus prints the report of running lab name once it is at least
// at (lab time): JSON, or the table with the latest state changes under it.
func (a *app) printStatus(cmd *cobra.Command, name, output string, at time.Duration) error {
	ctx := cmd.Context()
	c, _, err := a.dialLab(ctx, name)
	if err != nil {
		return err
	}
	defer c.Close()
	r, err := c.Status(ctx)
	if err != nil {
		return fmt.Errorf("status of lab %s: %w", name, err)
	}
	if wait := at - time.Duration(r.ElapsedMS)*time.Millisecond; wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("status of lab %s at %s: %w", name, at, ctx.Err())
		}
		if r, err = c.Status(ctx); err != nil {
			return fmt.Errorf("status of lab %s at %s: %w", name, at, err)
		}
	}
	if output == "json" {
		return r.WriteJSON(cmd.OutOrStdout())
	}
	skipped := 0
	if n := len(r.Timeline); n > statusTimelineRows {
		skipped = n - statusTimelineRows
		r.Timeline = r.Timeline[skipped:]
	}
	if err := r.WriteTable(cmd.OutOrStdout()); err != nil {
		return err
	}
	if skipped > 0 {
		fmt.Fprintf(cmd.OutOrStdout(), "(%d earlier timeline entries not shown; -o json lists them all)\n", skipped)
	}
	return nil
}

// newDownCommand tears a running lab down.
func newDownCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "down NAME",
		Short: "Tear a lab down (or remove what a killed lab left)",
		Long: `down asks the process that owns the lab to tear it down and waits for it.
When the owner is gone (killed, even with SIGKILL), down removes what the lab
left instead: namespaces, processes in them, its folder.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			ctx := cmd.Context()
			c, st, err := a.dialLab(ctx, name)
			if err == nil {
				derr := c.Down(ctx)
				c.Close()
				if derr != nil {
					return fmt.Errorf("down %s: %w", name, derr)
				}
				waitGone(ctx, st.PID, 60*time.Second)
			}
			rep, cerr := lab.Clean(ctx, a.stateDir(), name, false, a.log)
			if cerr != nil {
				return fmt.Errorf("down %s: %w", name, cerr)
			}
			if len(rep.Running) > 0 {
				return fmt.Errorf("down %s: the lab's owner (pid %d) is still running", name, st.PID)
			}
			if err != nil && len(rep.Removed) == 0 && rep.Namespaces == 0 {
				if errors.Is(err, lab.ErrLabNotFound) {
					return fmt.Errorf("down %s: %w", name, err)
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "lab %s down\n", name)
			return nil
		},
	}
	addStateFlag(cmd)
	return cmd
}

// waitGone waits until pid has exited or the timeout passes.
func waitGone(ctx context.Context, pid int, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for pid > 0 && time.Now().Before(deadline) && ctx.Err() == nil {
		if syscall.Kill(pid, 0) != nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// newCleanCommand removes every leftover of dead labs.
func newCleanCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "clean",
		Short: "Remove everything labs killed without tear-down left behind",
		Long: `clean removes the network namespaces (with their veths, bridges and nftables
rules), the processes still running in them, the folders and the lock files
of every lab of the state folder whose owner is gone. Labs kept in another
state folder are not touched. Running labs are left alone unless --force.
Running it twice is harmless.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rep, err := lab.Clean(cmd.Context(), a.stateDir(), "", a.v.GetBool("force"), a.log)
			if a.v.GetString("output") == "json" {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				_ = enc.Encode(rep)
			} else {
				printClean(cmd.OutOrStdout(), rep)
			}
			return err
		},
	}
	cmd.Flags().Bool("force", false, "also stop running labs first")
	cmd.Flags().StringP("output", "o", "table", "table or json")
	addStateFlag(cmd)
	return cmd
}

// newFaultCommand injects or heals a fault in a running lab.
func newFaultCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "fault NAME inject|heal FAULT --node N [--peer P] [--param k=v]",
		Short: "Inject or heal a fault in a running lab",
		Long:  "The faults are described in docs/faults.md.",
		Example: `  peerlab fault calico-mesh inject tcp179-drop --node node1 --peer node2
  peerlab fault calico-mesh heal tcp179-drop --node node1 --peer node2`,
		Args: exactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			action := args[1]
			if action != "inject" && action != "heal" {
				return usageErrorf("peerlab fault: %q is not inject or heal", action)
			}
			node := a.v.GetString("node")
			if node == "" {
				return usageErrorf("peerlab fault: --node is required")
			}
			params := map[string]string{}
			for _, kv := range a.v.GetStringSlice("param") {
				k, v, ok := strings.Cut(kv, "=")
				if !ok {
					return usageErrorf("peerlab fault: --param %q is not key=value", kv)
				}
				params[k] = v
			}
			c, _, err := a.dialLab(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			defer c.Close()
			fa := &pb.Fault{Name: args[2], Node: node, Peer: a.v.GetString("peer"), Params: params}
			if action == "inject" {
				err = c.Inject(cmd.Context(), fa)
			} else {
				err = c.Heal(cmd.Context(), fa)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s %s on %s: done\n", action, args[2], node)
			return nil
		},
	}
	cmd.Flags().String("node", "", "node to apply the fault to")
	cmd.Flags().String("peer", "", "limit the fault to this peer")
	cmd.Flags().StringSlice("param", nil, "fault parameter key=value (repeatable)")
	addStateFlag(cmd)
	return cmd
}

// newExecCommand runs a command inside a node's network namespace.
func newExecCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "exec NAME NODE -- CMD [ARG...]",
		Short: "Run a command inside a lab node's network namespace (birdc, ip, nft …)",
		Long: `exec runs CMD in the node's network namespace, with the node's folder in
PEERLAB_NODE_DIR. birdc and birdcl talk to the node's own BIRD: exec adds
-s with the node's control socket (and uses BIRD 2's birdc on bird2 nodes).`,
		Example: `  peerlab exec calico-mesh node1 -- birdc show protocols
  peerlab exec calico-mesh node1 -- ip addr`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 3 {
				return usageErrorf("peerlab exec: want NAME NODE -- CMD [ARG...]\nUsage: %s", cmd.UseLine())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return a.exec(cmd, args[0], args[1], args[2:]) },
	}
	addStateFlag(cmd)
	return cmd
}

// exec carries out `peerlab exec`.
func (a *app) exec(cmd *cobra.Command, name, node string, argv []string) error {
	st, err := lab.ReadState(a.stateDir(), name)
	if err != nil {
		return err
	}
	kind, ok := st.Nodes[node]
	if !ok {
		return usageErrorf("peerlab exec: lab %s has no node %s", name, node)
	}
	if st.Mode != lab.ModeNamespace {
		return usageErrorf("peerlab exec: lab %s runs in %s mode: its nodes have no namespace of their own", name, st.Mode)
	}
	nodeDir := filepath.Join(lab.LabDir(a.stateDir(), name), "nodes", node)
	argv = birdcArgs(argv, kind, nodeDir)
	// The node's PATH starts with the lab's tools (calicoctl, calico-node,
	// birdcl) and its KUBECONFIG is kubespray's admin.conf.
	env := append(os.Environ(), lab.NodeEnv(lab.ToolsDir(a.stateDir(), name))...)
	env = append(env, "PEERLAB_LAB="+name, "PEERLAB_NODE="+node, "PEERLAB_NODE_DIR="+nodeDir)
	path, err := lookPath(env, argv[0])
	if err != nil {
		return usageErrorf("peerlab exec: %v", err)
	}
	c := exec.Command(path, argv[1:]...)
	c.Args[0] = argv[0]
	c.Stdin, c.Stdout, c.Stderr = os.Stdin, cmd.OutOrStdout(), cmd.ErrOrStderr()
	c.Env = env
	if err := netns.StartProcessInNode(netns.NamespacePathOf(name, node), c); err != nil {
		return fmt.Errorf("exec in %s/%s: %w", name, node, err)
	}
	if err := c.Wait(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return &exitError{code: ee.ExitCode()}
		}
		return fmt.Errorf("exec in %s/%s: %w", name, node, err)
	}
	return nil
}

// lookPath finds name on the last PATH of env.
func lookPath(env []string, name string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	path := ""
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
		}
	}
	for _, d := range filepath.SplitList(path) {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: %w", name, exec.ErrNotFound)
}

// newKubeconfigCommand prints a lab's admin kubeconfig.
func newKubeconfigCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "kubeconfig NAME",
		Short: "Print a running lab's admin kubeconfig (its first master's API server)",
		Long: `kubeconfig prints the admin kubeconfig of a lab with node roles: the lab's
CA, the kubernetes-admin client certificate and the first master's API server.
Every node of the lab already has it as KUBECONFIG (/etc/kubernetes/admin.conf,
pointing masters at their own API server and kubespray workers at nginx-proxy on
127.0.0.1:6443), so kubectl works in 'peerlab exec NAME NODE -- kubectl ...'.`,
		Example: `  peerlab exec kubespray-proxy-down worker2 -- kubectl get pods -n kube-system -o wide
  peerlab kubeconfig kubespray-proxy-down > lab.kubeconfig`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := lab.ReadState(a.stateDir(), args[0]); err != nil {
				return err
			}
			data, err := os.ReadFile(lab.KubeconfigFile(a.stateDir(), args[0]))
			if errors.Is(err, os.ErrNotExist) {
				return usageErrorf("peerlab kubeconfig: lab %s has no API server (no node with role apiserver)", args[0])
			}
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(data)
			return err
		},
	}
	addStateFlag(cmd)
	return cmd
}

// birdcArgs points birdc/birdcl at the node's own BIRD control socket and
// picks BIRD 2's client on bird2 nodes, unless the user gave -s.
func birdcArgs(argv []string, kind, nodeDir string) []string {
	base := filepath.Base(argv[0])
	if base != "birdc" && base != "birdcl" {
		return argv
	}
	for _, a := range argv[1:] {
		if a == "-s" || strings.HasPrefix(a, "-s") {
			return argv
		}
	}
	out := []string{argv[0]}
	if kind == "bird2" {
		bins := bird.DefaultBinaries(bird.Bird2)
		if base == "birdc" && bins.Birdc != "" {
			out[0] = bins.Birdc
		}
	}
	socket := filepath.Join(nodeDir, "run", "bird.ctl")
	if data, err := os.ReadFile(socket + ".path"); err == nil {
		socket = strings.TrimSpace(string(data))
	}
	return append(append(out, "-s", socket), argv[1:]...)
}

// printClean reports what clean did, for people.
func printClean(w io.Writer, rep lab.CleanReport) {
	if len(rep.Removed) == 0 {
		fmt.Fprintln(w, "nothing to clean")
	} else {
		fmt.Fprintf(w, "removed %s: %d namespace(s), %d process(es)\n",
			strings.Join(rep.Removed, ", "), rep.Namespaces, rep.Processes)
	}
	if len(rep.Running) > 0 {
		fmt.Fprintf(w, "left running (use --force to stop them): %s\n", strings.Join(rep.Running, ", "))
	}
}
