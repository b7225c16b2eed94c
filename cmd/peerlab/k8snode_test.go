package main

import (
	"encoding/json"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/peerlab/peerlab/internal/testgate"
	"github.com/peerlab/peerlab/lab/k8s"
)

// TestKubesprayStoryWithKubectl plays topologies/kubespray-nginx-proxy-down.yaml
// as `peerlab up` does (namespace mode) and follows the usual
// troubleshooting path inside its nodes with the real kubectl: pods,
// describe, logs, exec, calicoctl, ps, hostname and a host-mode diagnosis
// with no flags.
func TestKubesprayStoryWithKubectl(t *testing.T) {
	requireRoot(t, append(birdBinaries, "nginx", "kubectl", "ps", "hostname")...)
	requireKubectl(t, 29)
	e := newLabEnv(t)
	file, name := e.topology("kubespray-nginx-proxy-down.yaml", "kn", "")
	e.mustRun(90*time.Second, "up", "-d", file)
	defer e.run(60*time.Second, "down", name)
	in := func(node string, argv ...string) result {
		return e.run(60*time.Second, append([]string{"exec", name, node, "--"}, argv...)...)
	}
	master := k8s.DaemonSetPodName("calico-node", "master")
	worker1 := k8s.DaemonSetPodName("calico-node", "worker1")

	// After the fault (at 5 s) and within calico-node's 30 s readiness
	// threshold, master's calico-node is 0/1 and worker1 has no nginx-proxy.
	var pods string
	deadline := time.Now().Add(25 * time.Second)
	for {
		r := in("worker2", "kubectl", "get", "pods", "-n", "kube-system", "-o", "wide")
		pods = r.stdout
		if r.code == 0 && regexp.MustCompile(`(?m)^`+master+`\s+0/1\s+Running\s.*\smaster\s`).MatchString(pods) &&
			!strings.Contains(pods, "nginx-proxy-worker1") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("kubectl get pods never showed %s 0/1 without nginx-proxy-worker1:\n%s%s", master, pods, r.stderr)
		}
		time.Sleep(500 * time.Millisecond)
	}
	for _, col := range []string{"NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED NODE"} {
		if !strings.Contains(strings.SplitN(pods, "\n", 2)[0], col) {
			t.Errorf("kubectl get pods -o wide has no %s column:\n%s", col, pods)
		}
	}
	if !strings.Contains(pods, "nginx-proxy-worker2") {
		t.Errorf("worker2's nginx-proxy pod is missing:\n%s", pods)
	}

	r := in("worker2", "kubectl", "describe", "pod", "-n", "kube-system", master)
	if want := "Readiness probe failed: calico/node is not ready: BIRD is not ready: BGP not established with 10.0.0.2"; !strings.Contains(r.stdout, want) {
		t.Errorf("kubectl describe pod %s lacks %q:\n%s%s", master, want, r.stdout, r.stderr)
	}
	r = in("master", "kubectl", "logs", "-n", "kube-system", worker1, "-c", "calico-node")
	if want := "failed to connect to the API server at https://127.0.0.1:6443"; r.code != 0 || !strings.Contains(r.stdout, want) {
		t.Errorf("kubectl logs %s lacks %q (exit %d):\n%s%s", worker1, want, r.code, r.stdout, r.stderr)
	}
	r = in("master", "kubectl", "exec", "-n", "kube-system", master, "--", "birdcl", "show", "protocols")
	if !regexp.MustCompile(`(?m)^Mesh_10_0_0_2\s+BGP\s+master\s+start\s+\S+\s+Passive`).MatchString(r.stdout) {
		t.Errorf("kubectl exec %s -- birdcl show protocols does not show Mesh_10_0_0_2 Passive (exit %d):\n%s%s", master, r.code, r.stdout, r.stderr)
	}
	r = in("master", "kubectl", "exec", "-n", "kube-system", master, "--", "calico-node", "-bird-ready")
	if want := "BGP not established with 10.0.0.2"; r.code == 0 || !strings.Contains(r.stdout, want) {
		t.Errorf("kubectl exec -- calico-node -bird-ready: exit %d, %q; want non-zero and %q", r.code, r.stdout+r.stderr, want)
	}
	// worker1 reaches the API server through its broken nginx-proxy only.
	r = in("worker1", "kubectl", "get", "nodes")
	if r.code == 0 || !strings.Contains(r.stderr, "127.0.0.1:6443") {
		t.Errorf("kubectl on worker1 should fail at 127.0.0.1:6443: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = in("master", "calicoctl", "node", "status")
	if !strings.Contains(r.stdout, "Calico process is running.") || !regexp.MustCompile(`\| 10\.0\.0\.2 +\| node-to-node mesh \| start `).MatchString(r.stdout) {
		t.Errorf("calicoctl node status on master (exit %d):\n%s%s", r.code, r.stdout, r.stderr)
	}

	kc := e.mustRun(30*time.Second, "kubeconfig", name).stdout
	for _, want := range []string{"server: https://10.0.0.1:6443", "client-certificate-data:", "certificate-authority-data:", "current-context: kubernetes-admin@" + name} {
		if !strings.Contains(kc, want) {
			t.Errorf("peerlab kubeconfig lacks %q:\n%s", want, kc)
		}
	}

	if got := strings.TrimSpace(in("worker1", "hostname").stdout); got != "worker1" {
		t.Errorf("hostname in worker1 is %q", got)
	}
	r = in("worker1", "ps", "-eo", "comm=")
	allowed := []string{"peerlab-init", "bird", "calico-node", "ps"}
	comms := strings.Fields(r.stdout)
	for _, c := range comms {
		if !slices.Contains(allowed, c) {
			t.Errorf("ps in worker1 shows %q (nginx-proxy is down; want only %v):\n%s", c, allowed, r.stdout)
		}
	}
	if n := strings.Count(" "+strings.Join(comms, " ")+" ", " bird "); n != 1 {
		t.Errorf("ps in worker1 shows %d bird processes, want its own only:\n%s", n, r.stdout)
	}
	r = in("worker1", e.bin, "diagnose")
	if !strings.Contains(r.stdout, "apiserver-proxy-down") || !strings.Contains(r.stdout, "node worker1") {
		t.Errorf("host-mode diagnose inside worker1 does not name apiserver-proxy-down on worker1 (exit %d):\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// requireKubectl needs a kubectl of version 1.minor or later: the lab's
// API server stand-in streams exec over WebSocket only, which kubectl
// speaks from 1.29 (asked by KUBECTL_REMOTE_COMMAND_WEBSOCKETS, which lab
// nodes set) and by default from 1.30. Debian 12's kubernetes-client is
// 1.20, too old: the failure says so.
func requireKubectl(t *testing.T, minor int) {
	t.Helper()
	out, err := exec.Command("kubectl", "version", "--client", "-o", "json").Output()
	var v struct {
		ClientVersion struct {
			Major, Minor, GitVersion string
		} `json:"clientVersion"`
	}
	if err == nil {
		err = json.Unmarshal(out, &v)
	}
	m, _ := strconv.Atoi(strings.TrimSuffix(v.ClientVersion.Minor, "+"))
	if err == nil && v.ClientVersion.Major == "1" && m >= minor {
		return
	}
	msg := "kubectl " + v.ClientVersion.GitVersion + " is older than 1." + strconv.Itoa(minor) +
		": kubectl exec against the lab needs WebSocket streaming (Debian 12's kubernetes-client is 1.20); install a newer kubectl"
	if err != nil {
		msg = "cannot read kubectl's version: " + err.Error()
	}
	testgate.SkipOrFail(t, "%s", msg)
}
