package diagnose

import (
	"context"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/peerlab/peerlab/lab"
	"github.com/peerlab/peerlab/lab/topology"
)

// kubesprayLab brings up the shipped kubespray topology (master, worker1,
// worker2; BIRD 1.6 calico-nodes; real nginx-proxy on the workers) under
// a name of the test's own, without its fault schedule: the test injects.
func kubesprayLab(t testing.TB) (*lab.Lab, string, string) {
	t.Helper()
	path := filepath.Join("..", "topologies", "kubespray-nginx-proxy-down.yaml")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h := fnv.New32a()
	fmt.Fprintf(h, "%s/%d", t.Name(), os.Getpid())
	name := fmt.Sprintf("dk%06x", h.Sum32()&0xffffff)
	text := strings.Replace(string(src), "name: kubespray-proxy-down", "name: "+name, 1)
	if text == string(src) {
		t.Fatalf("%s: no `name: kubespray-proxy-down` line to rename", path)
	}
	topo, err := topology.Parse(filepath.Base(path), []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	topo.Faults = nil
	l, stateDir := upLiveLab(t, topo)
	return l, stateDir, name
}

// evidenceHas reports whether some evidence line of f contains every one
// of parts.
func evidenceHas(f Finding, parts ...string) bool {
	for _, e := range f.Evidence {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(e, p)
		}
		if ok {
			return true
		}
	}
	return false
}

// TestLiveKubespray plays docs/kubespray.md's story live: the fault on a
// worker's API server path (or the API server itself), the symptom on
// master ("BGP not established with 10.0.0.2"), and a diagnosis from
// master that must follow the symptom to worker1.
func TestLiveKubespray(t *testing.T) {
	requireRoot(t)
	t.Parallel() // the live tests overlap: their labs mostly wait
	requireNginx(t)
	cases := []struct {
		name, fault, on string
		params          map[string]string
		// from is the node diagnosed. When it is master, the fault cuts
		// worker1 from the mesh (its calico-node restarts without
		// peers) and master shows the symptom; apiserver-down alone
		// breaks no session (calico-nodes keep what confd rendered), so
		// worker1 itself is diagnosed.
		from  string
		want  Cause
		node  string
		check func(t *testing.T, f Finding)
	}{
		{"apiserver-proxy-down", "apiserver-proxy-down", "worker1", nil, "master", CauseAPIServerProxyDown, "worker1", func(t *testing.T, f Finding) {
			if f.Confidence != High {
				t.Errorf("confidence %s, want high", f.Confidence)
			}
			for _, want := range [][]string{
				{"static pod manifest missing", "nginx-proxy.yml"},
				{"127.0.0.1:6443", "refused"},
				{"8081", "healthz"},
			} {
				if !evidenceHas(f, want...) {
					t.Errorf("no evidence line with %q", want)
				}
			}
			if len(f.Remediation) == 0 || !strings.Contains(f.Remediation[0], "restore the nginx-proxy static pod manifest") {
				t.Errorf("remediation does not say to restore the nginx-proxy manifest: %q", f.Remediation)
			}
		}},
		{"apiserver-proxy-bad-upstream", "apiserver-proxy-bad-upstream", "worker1", map[string]string{"address": topology.DefaultBadUpstream}, "master", CauseAPIServerProxyBadUpstream, "worker1", func(t *testing.T, f Finding) {
			for _, want := range [][]string{
				{"healthz", "HTTP 200"},
				{"through the proxy", "127.0.0.1:6443"},
				{topology.DefaultBadUpstream + ":6443", "upstream"},
			} {
				if !evidenceHas(f, want...) {
					t.Errorf("no evidence line with %q", want)
				}
			}
		}},
		{"apiserver-down", "apiserver-down", "master", nil, "worker1", CauseAPIServerUnreachable, "worker1", func(t *testing.T, f Finding) {
			if !evidenceHas(f, "10.0.0.1:6443", "refused") {
				t.Errorf("no evidence line showing the master's API server refusing")
			}
		}},
	}
	var jobs []liveJob
	for _, tc := range cases {
		jobs = append(jobs, liveJob{tc.name, func(t *testing.T) {
			l, stateDir, name := kubesprayLab(t)
			waitAllEstablished(t, l, 40*time.Second)
			ctx := context.Background()
			if err := l.InjectFault(ctx, &topology.Fault{Name: tc.fault, Node: tc.on, Params: tc.params}); err != nil {
				t.Fatalf("inject %s: %v", tc.fault, err)
			}
			if tc.fault == "apiserver-down" {
				waitNodeLog(t, stateDir, name, "worker1", "var/log/calico/confd.log", "failed to connect to the API server", 10*time.Second)
			}
			if tc.from == "master" {
				for _, s := range []string{"master", "worker2"} {
					waitSession(t, l, s, "worker1", false, 40*time.Second)
				}
			}
			rep, _ := diagnoseFrom(t, stateDir, name, tc.from)
			if got := topCause(rep); got != tc.want {
				t.Fatalf("top cause %s, want %s", got, tc.want)
			}
			f := rep.Findings[0]
			if f.Node != tc.node {
				t.Errorf("top finding on node %q, want %q (follow the symptom)", f.Node, tc.node)
			}
			for _, g := range rep.Findings[1:] {
				if g.Node == f.Node && apiPathCause(g.Cause) {
					t.Errorf("a second API server path cause %s (%s) next to %s on %s", g.Cause, g.Confidence, f.Cause, f.Node)
				}
			}
			if tc.check != nil {
				tc.check(t, f)
			}
		}})
	}
	runLabs(t, jobs)
}

// waitAllEstablished waits until the lab has sessions and every one is
// Established.
func waitAllEstablished(t testing.TB, l *lab.Lab, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ss, _ := l.Sessions(context.Background())
		up := len(ss) > 0
		for _, s := range ss {
			up = up && s.Established()
		}
		if up {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("sessions never all Established in %s: %+v", timeout, ss)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitNodeLog waits until the file rel under a lab node's folder contains s.
func waitNodeLog(t testing.TB, stateDir, labName, node, rel, s string, timeout time.Duration) {
	t.Helper()
	path := filepath.Join(lab.LabDir(stateDir, labName), "nodes", node, rel)
	deadline := time.Now().Add(timeout)
	for {
		data, _ := os.ReadFile(path)
		if strings.Contains(string(data), s) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never contained %q in %s:\n%s", path, s, timeout, data)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
