package kubegather

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilexec "k8s.io/client-go/util/exec"

	"github.com/peerlab/peerlab/diagnose"
)

// Unit tests of the gatherer's logic with an in-memory CoreReader and a
// scripted exec; the capability itself (coreClient against a real API
// server) is tested against a real lab in cmd/peerlab/diagnose_cluster_test.go.

// memCore is an in-memory CoreReader.
type memCore struct {
	nodes    []corev1.Node
	pods     []corev1.Pod
	events   []corev1.Event
	nodesErr error
}

func (m *memCore) Nodes(context.Context) (*corev1.NodeList, error) {
	if m.nodesErr != nil {
		return nil, m.nodesErr
	}
	return &corev1.NodeList{Items: append([]corev1.Node(nil), m.nodes...)}, nil
}

func (m *memCore) Pods(_ context.Context, namespace string) (*corev1.PodList, error) {
	l := &corev1.PodList{}
	for _, p := range m.pods {
		if p.Namespace == namespace {
			l.Items = append(l.Items, p)
		}
	}
	return l, nil
}

func (m *memCore) Events(_ context.Context, namespace string) (*corev1.EventList, error) {
	l := &corev1.EventList{}
	for _, e := range m.events {
		if e.Namespace == namespace {
			l.Items = append(l.Items, e)
		}
	}
	return l, nil
}

func (m *memCore) Logs(_ context.Context, namespace, pod, container string, tail int64) ([]byte, error) {
	return []byte(fmt.Sprintf("log of %s/%s container %s, last %d lines\n", namespace, pod, container, tail)), nil
}

func fakeNode(name, addr string, roles ...string) corev1.Node {
	labels := map[string]string{}
	for _, r := range roles {
		labels["node-role.kubernetes.io/"+r] = ""
	}
	return corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels, CreationTimestamp: metav1.NewTime(time.Now().Add(-time.Hour))},
		Status: corev1.NodeStatus{
			Addresses:  []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: addr}},
			Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
			NodeInfo:   corev1.NodeSystemInfo{KubeletVersion: "v1.29.3", OSImage: "Ubuntu 22.04.4 LTS"},
		},
	}
}

func fakePod(name, app, node, ip string, ready bool) corev1.Pod {
	return corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: Namespace, Labels: map[string]string{"k8s-app": app}},
		Spec:       corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: app}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip,
			ContainerStatuses: []corev1.ContainerStatus{{Name: app, Ready: ready, RestartCount: 2}}},
	}
}

// scriptedExec answers per pod and command; a pod in hang never answers.
func scriptedExec(out map[string]string, hang map[string]bool) ExecFunc {
	return func(ctx context.Context, _, pod, _ string, argv []string, stdout, _ io.Writer) error {
		if hang[pod] {
			<-ctx.Done()
			return ctx.Err()
		}
		text, failed := strings.CutPrefix(out[pod+" "+argv[0]], "EXIT1:")
		if _, err := io.WriteString(stdout, text); err != nil {
			return err
		}
		if failed {
			return utilexec.CodeExitError{Err: errors.New("command terminated with non-zero exit code"), Code: 1}
		}
		return nil
	}
}

func TestGatherAssignsNodesAndNamesSilentOnes(t *testing.T) {
	core := &memCore{
		nodes: []corev1.Node{fakeNode("master", "10.0.0.1", "control-plane"), fakeNode("worker1", "10.0.0.2"), fakeNode("worker2", "10.0.0.3")},
		pods: []corev1.Pod{
			fakePod("calico-node-aaaaa", "calico-node", "master", "10.0.0.1", false),
			fakePod("calico-node-bbbbb", "calico-node", "worker1", "10.0.0.2", true),
			fakePod("calico-node-ccccc", "calico-node", "worker2", "10.0.0.3", true),
		},
	}
	out := map[string]string{
		"calico-node-aaaaa birdcl":      "BIRD v0.3.3+birdv1.6.8 ready.\nname     proto    table    state  since       info\nMesh_10_0_0_2 BGP   master   start  10:00:00    Active        Socket: Connection refused\n",
		"calico-node-aaaaa calico-node": "EXIT1:calico/node is not ready: BIRD is not ready: BGP not established with 10.0.0.2\n",
		"calico-node-aaaaa cat":         "router id 10.0.0.1;\nprotocol bgp Mesh_10_0_0_2 from bgp_template {\n  neighbor 10.0.0.2 as 64512;\n  password \"s3cret-of-the-test\";\n}\n",
	}
	src := Source{Kube: core, Exec: scriptedExec(out, map[string]bool{"calico-node-ccccc": true})}
	res, err := Gather(context.Background(), src, Options{CallTimeout: 200 * time.Millisecond, Total: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(res.Unanswered, ","); got != "worker2" {
		t.Errorf("Unanswered = %q, want worker2", got)
	}
	byFile := map[string]diagnose.Artifact{}
	for _, a := range res.Artifacts {
		byFile[filepath.Join(a.Node, a.File)] = a
	}
	for _, want := range []string{"kubectl-get-nodes.txt", "kubectl-get-pods.txt", "master/birdcl-show-protocols-all.txt", "master/bird.cfg", "master/calico-node-bird-ready.txt", "master/calico-node.log"} {
		if _, ok := byFile[want]; !ok {
			t.Errorf("no artifact %s; have %v", want, keys(byFile))
		}
	}
	if got, want := string(byFile["master/calico-node.log"].Data), fmt.Sprintf("log of kube-system/calico-node-aaaaa container %s, last %d lines\n", CalicoContainer, DefaultTail); got != want {
		t.Errorf("master's log = %q, want %q", got, want)
	}
	if _, ok := byFile["worker2/bird.cfg"]; ok {
		t.Errorf("worker2 never answered, yet it has a bird.cfg")
	}
	kinds := map[string]bool{}
	for _, e := range res.Cluster.Evidence {
		kinds[e.Kind] = true
	}
	for _, k := range []string{"kubectl-nodes", "kubectl-pods", "bird-protocols", "readiness"} {
		if !kinds[k] {
			t.Errorf("the engine did not recognise a %s artifact; recognised %v", k, kinds)
		}
	}
	un := strings.Join(res.Cluster.Unknowns, "\n")
	if !strings.Contains(un, "partial evidence: worker2 did not answer") || !strings.Contains(un, "worker2: exec \"birdcl") {
		t.Errorf("unknowns do not name worker2:\n%s", un)
	}

	// Saved, the gathered bird.cfg keeps no password.
	dir := t.TempDir()
	if err := diagnose.SaveArtifacts(dir, res.Artifacts); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "master", "bird.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "s3cret-of-the-test") || !strings.Contains(string(data), "password") {
		t.Errorf("saved bird.cfg is not redacted:\n%s", data)
	}
	if st, err := os.Stat(filepath.Join(dir, "master", "bird.cfg")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("saved bird.cfg: %v %v, want mode 0600", st.Mode().Perm(), err)
	}
}

func TestGatherWithoutNodeListIsAnError(t *testing.T) {
	_, err := Gather(context.Background(), Source{Kube: &memCore{nodesErr: errors.New("connection refused")}}, Options{})
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("Gather = %v, want ErrUnreachable", err)
	}
}

func keys(m map[string]diagnose.Artifact) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestUnansweredNodesAreNotHealthy(t *testing.T) {
	for _, tc := range []struct {
		name       string
		rep        diagnose.Report
		unanswered []string
		healthy    bool
		findings   int
	}{
		{"all answered, healthy", diagnose.Report{Healthy: true}, nil, true, 0},
		{"silent node, otherwise healthy", diagnose.Report{Healthy: true}, []string{"n7"}, false, 1},
		{"silent node, findings already", diagnose.Report{Findings: []diagnose.Finding{{Cause: diagnose.CauseAPIServerProxyDown}}}, []string{"n7"}, false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := unansweredFinding(tc.rep, tc.unanswered)
			if got.Healthy != tc.healthy || len(got.Findings) != tc.findings {
				t.Fatalf("healthy %v with %d findings, want %v with %d", got.Healthy, len(got.Findings), tc.healthy, tc.findings)
			}
			if tc.findings == 1 && tc.rep.Healthy && (got.Findings[0].Confidence != diagnose.Low || !strings.Contains(got.Findings[0].Summary, "n7")) {
				t.Errorf("finding %+v: want low confidence naming n7", got.Findings[0])
			}
		})
	}
}
