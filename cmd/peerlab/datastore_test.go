package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCalicoDatastoreWithKubectl plays topologies/calico-peer-as-wrong-resource.yaml
// as `peerlab up -d` does and changes the lab's Calico resources with the
// real kubectl, using the kubeconfig `peerlab kubeconfig` prints: each
// change must reach the nodes' BIRD (confd re-renders and reloads).
//
//	the BGPPeer's AS is the ToR's, worker1's AS is on its Node  -> Node_10_0_0_254 Established
//	kubectl apply BGPConfiguration nodeToNodeMeshEnabled: false  -> no Mesh_ protocol left
//	kubectl delete the BGPPeer                                   -> no Node_10_0_0_254 on worker1
func TestCalicoDatastoreWithKubectl(t *testing.T) {
	requireRoot(t, append(birdBinaries, "kubectl")...)
	e := newLabEnv(t)
	file, name := e.topology("calico-peer-as-wrong-resource.yaml", "ds", "")
	e.mustRun(90*time.Second, "up", "-d", file)
	defer e.run(60*time.Second, "down", name)
	kc := filepath.Join(e.dir, name+".kubeconfig")
	if err := os.WriteFile(kc, []byte(e.mustRun(30*time.Second, "kubeconfig", name).stdout), 0o600); err != nil {
		t.Fatal(err)
	}
	// kubectl runs in master's namespace (the API server's address is the
	// lab's), with the kubeconfig `peerlab kubeconfig` printed.
	kubectl := func(args ...string) result {
		return e.run(60*time.Second, append([]string{"exec", name, "master", "--", "kubectl", "--kubeconfig", kc}, args...)...)
	}
	protocols := func(node string) string {
		return e.run(30*time.Second, "exec", name, node, "--", "birdc", "show", "protocols").stdout
	}
	// waitFor polls BIRD's protocols on node until ok holds (generous: the
	// lab may share the machine with other runs).
	waitFor := func(node, what string, ok func(string) bool) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			p := protocols(node)
			if ok(p) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s's BIRD never showed %s:\n%s", node, what, p)
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
	line := func(p, proto string) string {
		for _, l := range strings.Split(p, "\n") {
			if strings.HasPrefix(l, proto+" ") {
				return l
			}
		}
		return ""
	}
	established := func(proto string) func(string) bool {
		return func(p string) bool { return strings.Contains(line(p, proto), "Established") }
	}
	waitFor("worker1", "Mesh_10_0_0_1 Established", established("Mesh_10_0_0_1"))
	if l := line(protocols("worker1"), "Node_10_0_0_254"); l == "" || strings.Contains(l, "Established") {
		t.Fatalf("worker1's session to the ToR should exist and be down before the fix: %q", l)
	}

	// The fix: worker1's AS on its Calico Node, the ToR's AS on the BGPPeer.
	if r := kubectl("patch", "nodes.crd.projectcalico.org", "worker1", "--type", "merge", "-p", `{"spec":{"bgp":{"asNumber":65010}}}`); r.code != 0 {
		t.Fatalf("kubectl patch node: %s%s", r.stdout, r.stderr)
	}
	if r := kubectl("patch", "bgppeers.crd.projectcalico.org", "worker1-tor", "--type", "json", "-p", `[{"op":"replace","path":"/spec/asNumber","value":65000}]`); r.code != 0 {
		t.Fatalf("kubectl patch bgppeer: %s%s", r.stdout, r.stderr)
	}
	waitFor("worker1", "Node_10_0_0_254 Established after the fix", established("Node_10_0_0_254"))
	if out := e.run(30*time.Second, "exec", name, "worker1", "--", "cat", "/etc/calico/confd/config/bird.cfg").stdout; !strings.Contains(out, "local as 65010;") {
		t.Errorf("worker1's confd bird.cfg is not in AS 65010:\n%s", out)
	}

	// Mesh off with kubectl apply -f: every Mesh_ protocol goes.
	cfg := filepath.Join(e.dir, name+"-bgpconfig.yaml")
	if err := os.WriteFile(cfg, []byte("apiVersion: crd.projectcalico.org/v1\nkind: BGPConfiguration\nmetadata:\n  name: default\nspec:\n  nodeToNodeMeshEnabled: false\n  asNumber: 64512\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := kubectl("apply", "-f", cfg); r.code != 0 {
		t.Fatalf("kubectl apply: %s%s", r.stdout, r.stderr)
	}
	for _, n := range []string{"master", "worker1"} {
		waitFor(n, "no Mesh_ protocol with the mesh disabled", func(p string) bool { return !strings.Contains(p, "Mesh_") })
	}

	// Deleting the BGPPeer removes worker1's session to the ToR.
	if r := kubectl("delete", "bgppeers.crd.projectcalico.org", "worker1-tor"); r.code != 0 {
		t.Fatalf("kubectl delete: %s%s", r.stdout, r.stderr)
	}
	waitFor("worker1", "no Node_10_0_0_254 after the BGPPeer's delete", func(p string) bool { return line(p, "Node_10_0_0_254") == "" && p != "" })
}
