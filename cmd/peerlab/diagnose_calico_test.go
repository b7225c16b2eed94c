package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/peerlab/peerlab/diagnose"
	"github.com/peerlab/peerlab/exercise"
)

// calicoLab starts topology file (under topologies/) in namespace mode
// under a name of its own and writes the lab's kubeconfig to a file.
func calicoLab(t *testing.T, file, tag string) (e *labEnv, name, kubeconfig string) {
	t.Helper()
	requireRoot(t, append(birdBinaries, "sh")...)
	e = newLabEnv(t)
	path, name := e.topology(file, tag, "")
	e.mustRun(90*time.Second, "up", "-d", path)
	t.Cleanup(func() { e.run(60*time.Second, "down", name) })
	kubeconfig = filepath.Join(e.dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte(e.mustRun(30*time.Second, "kubeconfig", name).stdout), 0o600); err != nil {
		t.Fatal(err)
	}
	return e, name, kubeconfig
}

// diagnoseUntilTop runs `diagnose --kubeconfig` inside master until the
// first finding is cause (or within is over) and returns that report.
func diagnoseUntilTop(t *testing.T, e *labEnv, name, kubeconfig string, cause diagnose.Cause, within time.Duration) diagnose.Report {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		rep, r := diagnoseIn(t, e, name, "master", kubeconfig)
		if len(rep.Findings) > 0 && rep.Findings[0].Cause == cause {
			return rep
		}
		if time.Now().After(deadline) {
			t.Fatalf("diagnose --kubeconfig never put %s first (exit %d):\n%s%s", cause, r.code, r.stdout, r.stderr)
		}
		time.Sleep(2 * time.Second)
	}
}

// TestDiagnoseClusterCalicoPeerAS diagnoses
// topologies/calico-peer-as-wrong-resource.yaml from the kubeconfig alone:
// the first finding names the BGPPeer worker1-tor and its asNumber, with
// high confidence because BIRD's Bad peer AS quotes the ToR's real AS.
func TestDiagnoseClusterCalicoPeerAS(t *testing.T) {
	e, name, kc := calicoLab(t, "calico-peer-as-wrong-resource.yaml", "kpas")
	rep := diagnoseUntilTop(t, e, name, kc, diagnose.CauseBGPPeerASMismatch, 60*time.Second)
	f := rep.Findings[0]
	if f.Node != "worker1" || f.Peer != "10.0.0.254" || f.Confidence != diagnose.High {
		t.Errorf("first finding on %q peer %q (%s); want worker1, 10.0.0.254, high", f.Node, f.Peer, f.Confidence)
	}
	for _, want := range []string{"BGPPeer worker1-tor sets asNumber 65010", "AS 65000", "belongs on the Calico Node"} {
		if !strings.Contains(f.Summary, want) {
			t.Errorf("summary lacks %q: %s", want, f.Summary)
		}
	}
	ev := strings.Join(f.Evidence, "\n")
	for _, want := range []string{"calico-bgppeers.yaml: asNumber: 65010", "Bad peer AS"} {
		if !strings.Contains(ev, want) {
			t.Errorf("evidence lacks %q:\n%s", want, ev)
		}
	}
	if !strings.Contains(strings.Join(f.Remediation, "\n"), "calicoctl patch bgppeer worker1-tor -p '{\"spec\":{\"asNumber\":65000}}'") {
		t.Errorf("remediation does not set the BGPPeer to the ToR's AS:\n%s", strings.Join(f.Remediation, "\n"))
	}
}

// TestDiagnoseClusterCalicoMeshDisabled brings up the calico-mesh-disabled
// exercise's topology, runs the exercise's own break steps (kubectl patch
// of the default BGPConfiguration) and checks that diagnose --kubeconfig
// names the disabled mesh first, with high confidence (the resource and
// BIRD's missing protocols agree).
func TestDiagnoseClusterCalicoMeshDisabled(t *testing.T) {
	ex, err := exercise.Load(os.DirFS(filepath.Join("..", "..", "topologies", "exercises")), "calico-mesh-disabled")
	if err != nil {
		t.Fatal(err)
	}
	e, name, kc := calicoLab(t, "exercises/calico-mesh-disabled/topology.yaml", "kmesh")
	// The exercise breaks an Established mesh: wait for it first.
	diagnoseUntilHealthy(t, e, name, kc, 60*time.Second)
	for _, s := range ex.Break {
		if s.Fault != "" {
			t.Fatalf("the exercise's break injects %s; this test replays only commands", s.Fault)
		}
		e.mustRun(90*time.Second, append([]string{"exec", name, s.Node, "--"}, s.Run...)...)
	}
	rep := diagnoseUntilTop(t, e, name, kc, diagnose.CauseMeshDisabledNoPeers, 60*time.Second)
	f := rep.Findings[0]
	if f.Confidence != diagnose.High {
		t.Errorf("first finding %s (%s); want high", f.Cause, f.Confidence)
	}
	if ev := strings.Join(f.Evidence, "\n"); !strings.Contains(ev, "calico-bgpconfigurations.yaml: nodeToNodeMeshEnabled: false") {
		t.Errorf("evidence does not quote the BGPConfiguration:\n%s", ev)
	}
	if !strings.Contains(strings.Join(f.Remediation, "\n"), `bgpconfigurations.crd.projectcalico.org default --type merge -p '{"spec":{"nodeToNodeMeshEnabled":true}}'`) {
		t.Errorf("remediation does not re-enable the mesh:\n%s", strings.Join(f.Remediation, "\n"))
	}
}

// diagnoseUntilHealthy waits until diagnose --kubeconfig finds nothing:
// the default mesh is up and no Calico resource rule fires on it.
func diagnoseUntilHealthy(t *testing.T, e *labEnv, name, kubeconfig string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		rep, r := diagnoseIn(t, e, name, "master", kubeconfig)
		if len(rep.Findings) == 0 && r.code == diagnose.ExitHealthy {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the unbroken lab never diagnosed healthy (exit %d):\n%s%s", r.code, r.stdout, r.stderr)
		}
		time.Sleep(2 * time.Second)
	}
}
