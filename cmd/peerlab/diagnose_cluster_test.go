package main

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/peerlab/peerlab/diagnose"
)

// clusterLab starts topologies/kubespray-nginx-proxy-down.yaml (namespace
// mode) with its heal moved out of the test's way, and writes the lab's
// kubeconfig (`peerlab kubeconfig`) to a file. The API server listens on
// the master's address, inside the lab: `diagnose --kubeconfig` runs
// inside the master node (peerlab exec), where an engineer's laptop on
// the cluster network would be.
func clusterLab(t *testing.T, tag string) (e *labEnv, name, kubeconfig string) {
	t.Helper()
	requireRoot(t, append(birdBinaries, "nginx", "sh")...)
	e = newLabEnv(t)
	file, name := e.topology("kubespray-nginx-proxy-down.yaml", tag, "")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "heal-at: 20s") {
		t.Fatalf("%s: the story's heal-at moved; update this test", file)
	}
	if err := os.WriteFile(file, []byte(strings.Replace(string(data), "heal-at: 20s", "heal-at: 900s", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	e.mustRun(90*time.Second, "up", "-d", file)
	t.Cleanup(func() { e.run(60*time.Second, "down", name) })
	kubeconfig = filepath.Join(e.dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte(e.mustRun(30*time.Second, "kubeconfig", name).stdout), 0o600); err != nil {
		t.Fatal(err)
	}
	return e, name, kubeconfig
}

// diagnoseIn runs `peerlab diagnose --kubeconfig FILE -o json ARGS` inside
// node and decodes its report.
func diagnoseIn(t *testing.T, e *labEnv, name, node, kubeconfig string, args ...string) (diagnose.Report, result) {
	t.Helper()
	argv := append([]string{"exec", name, node, "--", e.bin, "diagnose", "--kubeconfig", kubeconfig, "-o", "json"}, args...)
	r := e.run(90*time.Second, argv...)
	var rep diagnose.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("diagnose --kubeconfig: exit %d, not a JSON report: %v\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	return rep, r
}

// TestDiagnoseClusterKubespray diagnoses the kubespray story from nothing
// but the lab's kubeconfig: the first finding is worker1's proxy, its
// evidence quotes worker1's calico-node log and the other nodes' BIRD,
// gathered through the API server (exec over WebSocket, logs, pods).
// --save-artifacts keeps the gathered text as a folder (0700/0600) that
// the artifacts mode diagnoses the same way.
func TestDiagnoseClusterKubespray(t *testing.T) {
	e, name, kc := clusterLab(t, "kc")
	saved := filepath.Join(e.dir, "evidence")
	var (
		rep diagnose.Report
		r   result
	)
	// The fault is at 8 s; calico-node's log shows it within seconds.
	deadline := time.Now().Add(60 * time.Second)
	for {
		_ = os.RemoveAll(saved)
		rep, r = diagnoseIn(t, e, name, "master", kc, "--save-artifacts", saved)
		if len(rep.Findings) > 0 && rep.Findings[0].Cause == diagnose.CauseAPIServerProxyDown {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("diagnose --kubeconfig never put apiserver-proxy-down first (exit %d):\n%s%s", r.code, r.stdout, r.stderr)
		}
		time.Sleep(2 * time.Second)
	}
	f := rep.Findings[0]
	if f.Node != "worker1" || f.Confidence != diagnose.High || r.code != diagnose.ExitFindings {
		t.Errorf("first finding %s on %q (%s), exit %d; want apiserver-proxy-down on worker1, high, exit %d", f.Cause, f.Node, f.Confidence, r.code, diagnose.ExitFindings)
	}
	for _, want := range []string{"worker1/calico-node.log:", "127.0.0.1:6443", "master/birdcl-show-protocols-all.txt: Mesh_10_0_0_2"} {
		if !strings.Contains(strings.Join(f.Evidence, "\n"), want) {
			t.Errorf("finding's evidence lacks %q:\n%s", want, strings.Join(f.Evidence, "\n"))
		}
	}
	for _, u := range rep.Unknowns {
		if strings.Contains(u, "partial evidence") {
			t.Errorf("every node answered, yet the report says %q", u)
		}
	}

	// The saved folder: one sub-folder per node, private modes.
	var files []string
	err := filepath.WalkDir(saved, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		want := fs.FileMode(0o600)
		if d.IsDir() {
			if p == saved {
				return nil
			}
			want = 0o700
		} else {
			rel, _ := filepath.Rel(saved, p)
			files = append(files, filepath.ToSlash(rel))
		}
		if info.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", p, info.Mode().Perm(), want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"kubectl-get-nodes.txt", "kubectl-get-pods.txt", "worker1/calico-node.log",
		"worker1/bird.cfg", "master/birdcl-show-protocols-all.txt", "worker2/calico-node-bird-ready.txt"} {
		if !strings.Contains("\n"+strings.Join(files, "\n")+"\n", "\n"+want+"\n") {
			t.Errorf("--save-artifacts wrote no %s: %v", want, files)
		}
	}
	// The same evidence, read back as files, tells the same story.
	r = e.run(60*time.Second, "diagnose", saved, "-o", "json")
	var again diagnose.Report
	if err := json.Unmarshal([]byte(r.stdout), &again); err != nil || len(again.Findings) == 0 ||
		again.Findings[0].Cause != diagnose.CauseAPIServerProxyDown || again.Findings[0].Node != "worker1" {
		t.Errorf("artifacts mode on the saved folder (exit %d, %v) does not put apiserver-proxy-down on worker1 first:\n%s%s", r.code, err, r.stdout, r.stderr)
	}
}

// TestDiagnoseClusterPartial makes one node's exec hang, as on a node
// whose disk blocks: worker2's bird.cfg is replaced by a FIFO nobody
// writes, so `cat bird.cfg` in its calico-node never returns. The
// diagnosis still names worker1's proxy from what the nodes gave, within
// its time limits, and its unknowns say that worker2 did not answer.
func TestDiagnoseClusterPartial(t *testing.T) {
	requireRoot(t, "mkfifo")
	e, name, kc := clusterLab(t, "kp")
	// Wait for the story before breaking anything.
	deadline := time.Now().Add(60 * time.Second)
	for {
		rep, r := diagnoseIn(t, e, name, "master", kc)
		if len(rep.Findings) > 0 && rep.Findings[0].Cause == diagnose.CauseAPIServerProxyDown {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the story never showed apiserver-proxy-down first (exit %d):\n%s%s", r.code, r.stdout, r.stderr)
		}
		time.Sleep(2 * time.Second)
	}
	e.mustRun(30*time.Second, "exec", name, "worker2", "--", "sh", "-c",
		"cd /etc/calico/confd/config && rm bird.cfg && mkfifo bird.cfg")

	start := time.Now()
	rep, r := diagnoseIn(t, e, name, "master", kc, "--call-timeout", "2s", "--timeout", "20s")
	took := time.Since(start)
	if took > 40*time.Second {
		t.Errorf("diagnose took %s with --call-timeout 2s --timeout 20s", took)
	}
	unknowns := strings.Join(rep.Unknowns, "\n")
	if !strings.Contains(unknowns, "partial evidence: worker2 did not answer") || !strings.Contains(unknowns, "worker2: exec \"cat /etc/calico/confd/config/bird.cfg\" in pod calico-node-") {
		t.Errorf("unknowns do not name worker2 as not answering (exit %d):\n%s\n%s", r.code, unknowns, r.stderr)
	}
	if strings.Contains(unknowns, "partial evidence: master") || strings.Contains(unknowns, "worker1 did not answer") {
		t.Errorf("unknowns blame nodes that answered:\n%s", unknowns)
	}
	if len(rep.Findings) == 0 || rep.Findings[0].Cause != diagnose.CauseAPIServerProxyDown || rep.Findings[0].Node != "worker1" {
		t.Errorf("with worker2 silent, the first finding is not apiserver-proxy-down on worker1 (exit %d):\n%s", r.code, r.stdout)
	}
}

// TestDiagnoseClusterUsage: cluster mode's bad input and an API server
// that does not answer, without a lab.
func TestDiagnoseClusterUsage(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.yaml")
	if err := os.WriteFile(garbage, []byte("this: [is not a kubeconfig\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A kubeconfig whose server refuses connections (a closed loopback port).
	closed := filepath.Join(dir, "closed.yaml")
	kc := "apiVersion: v1\nkind: Config\nclusters:\n- cluster: {server: 'https://127.0.0.1:1', insecure-skip-tls-verify: true}\n  name: c\n" +
		"contexts:\n- context: {cluster: c, user: u}\n  name: x\ncurrent-context: x\nusers:\n- name: u\n  user: {token: t}\n"
	if err := os.WriteFile(closed, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		contains string
	}{
		{"missing kubeconfig is a usage error", []string{"diagnose", "--kubeconfig", filepath.Join(dir, "none.yaml")}, exitUsage, "none.yaml"},
		{"unparsable kubeconfig is a usage error", []string{"diagnose", "--kubeconfig", garbage}, exitUsage, "kubeconfig"},
		{"unknown context is a usage error", []string{"diagnose", "--kubeconfig", closed, "--context", "nope"}, exitUsage, "nope"},
		{"--kubeconfig excludes evidence files", []string{"diagnose", "--kubeconfig", closed, dir}, exitUsage, "excludes"},
		{"an API server that refuses exits 1 naming it", []string{"diagnose", "--kubeconfig", closed, "--call-timeout", "2s"}, exitFailed, "did not list the nodes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := runCLI(t, tc.args...)
			if code != tc.code || !strings.Contains(out+errOut, tc.contains) {
				t.Fatalf("exit %d, want %d with %q\nstdout: %s\nstderr: %s", code, tc.code, tc.contains, out, errOut)
			}
		})
	}
}
