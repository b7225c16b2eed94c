package diagnose

import (
	"strings"
	"testing"
)

// TestRecognizeRealLinesMore feeds more lines copied from public threads
// (the corpus case under testdata/real named in each comment) to the
// default registry: the formats added for the real-world corpus.
func TestRecognizeRealLinesMore(t *testing.T) {
	tests := []struct {
		name  string
		data  string
		kinds []string
		check func(t *testing.T, o Observations)
	}{
		// gh-NLNOG-ring-ansible-167 (OpenBGPD on a looking glass)
		{"openbgpd refused", "Oct 24 13:22:30 lg02 bgpd[101680]: neighbor 217.119.226.1 (ROOTNL1-v4): socket error: Connection refused\n" +
			"Oct 24 13:22:30 lg02 bgpd[101680]: neighbor 217.119.226.1 (ROOTNL1-v4): state change Connect -> Active, reason: Connection open failed\n",
			[]string{"router-session-log"}, func(t *testing.T, o Observations) {
				if o.Router != "openbgpd" || len(o.RouterSessions) != 2 {
					t.Fatalf("%+v", o)
				}
				s := o.RouterSessions[0]
				if s.Peer != "217.119.226.1" || s.State != "Active" || s.LastError != "Socket: Connection refused" {
					t.Errorf("%+v", s)
				}
			}},
		// gh-metallb-metallb-114 (Docker JSON line of the MetalLB speaker)
		{"metallb not open", `{"log":"E1213 22:09:35.960710       1 bgp.go:48] read OPEN from \"10.1.105.1:179\": message type is not OPEN, got 3, want 1\n","stream":"stderr","time":"2017-12-13T22:09:35.961076973Z"}` + "\n",
			[]string{"router-log"}, func(t *testing.T, o Observations) {
				if ev := o.RouterEvents[0]; ev.Neighbor != "10.1.105.1" || ev.HasCode || ev.Sent {
					t.Errorf("%+v", ev)
				}
			}},
		// gh-kubernetes-sigs-kubespray-2150 (kubelet through the local nginx-proxy)
		{"kubelet awaiting headers", `Jan 11 17:40:19 k8s-03 kubelet[127661]: E0111 17:40:19.385015  127661 kubelet_node_status.go:357] Error updating node status, will retry: error getting node "k8s-03": Get https://localhost:6443/api/v1/nodes/k8s-03: net/http: request canceled (Client.Timeout exceeded while awaiting headers)` + "\n",
			[]string{"calico-node-log"}, func(t *testing.T, o Observations) {
				e := o.APIErrors[0]
				if !e.Local() || e.Reason != "timeout" || !e.Accepted || e.Dial {
					t.Errorf("%+v", e)
				}
			}},
		// gh-kubernetes-sigs-kubespray-5689 (the reporter cut the line short)
		{"kubelet cut dial", `kubelet_node_status.go:94] Unable to register node "sdbit-k8s-worker1" with API server: Post https://localhost:6443/api/v1/nodes: dial tcp 127.0.0.1:6443: con` + "\n",
			[]string{"calico-node-log"}, func(t *testing.T, o Observations) {
				e := o.APIErrors[0]
				if !e.Local() || !e.Dial || e.Reason != "other" {
					t.Errorf("%+v", e)
				}
			}},
		// gh-projectcalico-calicoctl-1016 (BIRD in calico-node without bird.cfg)
		{"bird no config", "2016-06-09_06:54:34.69256 bird: Unable to open configuration file /etc/calico/confd/config/bird.cfg: No such file or directory\n",
			[]string{"bird-log"}, func(t *testing.T, o Observations) {
				if !o.BirdLog[0].NoConfig {
					t.Errorf("%+v", o.BirdLog[0])
				}
			}},
		// gh-projectcalico-calicoctl-1535 (confd inside calico/node)
		{"confd error", "2017-02-20T11:16:27Z tigera-lwr-kubetest2-master confd[31]: ERROR exit status 1\n",
			[]string{"calico-node-log"}, func(t *testing.T, o Observations) {
				if len(o.ConfdErrors) != 1 {
					t.Errorf("%+v", o)
				}
			}},
		{"calicoctl bird not running", "Calico process is running.\n\nINFO: BIRDv4 process: 'bird' is not running.\n",
			[]string{"calicoctl-node-status"}, func(t *testing.T, o Observations) {
				if !o.Status[0].BirdDown {
					t.Errorf("%+v", o.Status[0])
				}
			}},
		// gh-projectcalico-calicoctl-819 (musl's EADDRNOTAVAIL text)
		{"bird address not available", "2016-06-15_07:13:07.98666 bird: Mesh_10_0_5_102: Socket error: bind: Address not available\n",
			[]string{"bird-log"}, func(t *testing.T, o Observations) {
				if bl := o.BirdLog[0]; bl.Protocol != "Mesh_10_0_5_102" || !addrNotAvailable(bl.Message) {
					t.Errorf("%+v", bl)
				}
			}},
		// gh-projectcalico-calicoctl-1135 (every line wrapped in backticks)
		{"backtick lines", "`root@calico01-S2600WTTR:~/Downloads# ./calicoctl status`\n`calico-node container is running. Status: Up 16 minutes`\n`IPv4 BGP status`\n" +
			"`|  Peer address |     Peer type     | State |  Since   |                    Info                   |`\n" +
			"`| 10.239.129.82 | node-to-node mesh | start | 16:00:16 | Active        Socket: Host is unreachable |`\n",
			[]string{"calicoctl-node-status"}, func(t *testing.T, o Observations) {
				if p := o.Status[0].Peers; len(p) != 1 || p[0].Address != "10.239.129.82" {
					t.Errorf("%+v", o.Status[0])
				}
				if len(o.Hostnames) != 1 || o.Hostnames[0].Name != "calico01-S2600WTTR" {
					t.Errorf("hostnames %+v", o.Hostnames)
				}
			}},
		// gh-projectcalico-calico-6141 (Kubernetes Node status.addresses)
		{"node addresses", "  - address: 10.72.70.21\n    type: InternalIP\n  - address: sf02\n    type: Hostname\n",
			[]string{"node-addresses-yaml"}, func(t *testing.T, o Observations) {
				if len(o.KubeNodes) != 1 || o.KubeNodes[0].Name != "sf02" || o.KubeNodes[0].InternalIP != "10.72.70.21" || o.Hostnames[0].Name != "sf02" {
					t.Errorf("%+v", o)
				}
			}},
		// gh-projectcalico-calico-6141 (Calico Node spec)
		{"calico node spec", "spec:\n  addresses:\n  - address: 10.72.70.20/31\n    type: CalicoNodeIP\n  - address: 10.72.70.21\n    type: InternalIP\n  bgp:\n    ipv4Address: 10.72.70.20/31\n  ipv4VXLANTunnelAddr: 172.30.144.17\n",
			[]string{"node-addresses-yaml"}, func(t *testing.T, o Observations) {
				if len(o.NodeAddrs) != 1 || o.NodeAddrs[0].Addr != "10.72.70.20" || o.NodeAddrs[0].How != "node-resource" || len(o.KubeNodes) != 0 {
					t.Errorf("%+v", o)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			kinds, obs := recognizeKinds(tc.data)
			if strings.Join(kinds, ",") != strings.Join(tc.kinds, ",") {
				t.Fatalf("kinds %v, want %v", kinds, tc.kinds)
			}
			if tc.check != nil {
				tc.check(t, obs)
			}
		})
	}
}

// TestPromptHost: the host of a prompt names the node only for commands
// that report on the host they run on.
func TestPromptHost(t *testing.T) {
	tests := []struct{ prompt, want string }{
		// gh-projectcalico-calico-1941
		{"root@mjs-api-dal10-a:~# ETCD_ENDPOINTS=https://10.171.126.244:2379 calicoctl node status", "mjs-api-dal10-a"},
		// gh-projectcalico-calicoctl-1535
		{"lwr20@tigera-lwr-kubetest2-master:~$ sudo calicoctl node status", "tigera-lwr-kubetest2-master"},
		// gh-projectcalico-calico-6901: kubectl may run anywhere
		{"neil@glaurung:~$ kubectl describe po calico-node-chnmn -n calico-system", ""},
		{"[root@node1 ~]# birdc show protocols", "node1"},
		{"$ calicoctl node status", ""},
		{"root@m1:~# calicoctl get nodes -o wide", ""},
	}
	for _, tc := range tests {
		if got := promptHost(tc.prompt); got != tc.want {
			t.Errorf("promptHost(%q) = %q, want %q", tc.prompt, got, tc.want)
		}
	}
}
