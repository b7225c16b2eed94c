package diagnose

import (
	"strings"
	"testing"
)

// TestRecognizeRealLines feeds lines copied from public threads (source
// in each case's name comment) to the default registry.
func TestRecognizeRealLines(t *testing.T) {
	tests := []struct {
		name  string
		data  string
		kinds []string
		check func(t *testing.T, o Observations)
	}{
		// https://github.com/projectcalico/calicoctl/issues/2108
		{"autodetect port-channel", "2020-02-11 15:32:28.330 [INFO][8] startup.go 621: Using autodetected IPv4 address on interface PortChannel0004: 10.0.0.62/31\n",
			[]string{"calico-autodetect"}, func(t *testing.T, o Observations) {
				na := o.NodeAddrs[0]
				if na.Addr != "10.0.0.62" || na.Interface != "PortChannel0004" || na.How != "first-found" || na.Prefix.Bits() != 31 {
					t.Errorf("%+v", na)
				}
			}},
		// projectcalico/calico startup code and a kubeadm thread (weave interface)
		{"autodetect conflict", "2023-02-09 05:44:36.095 [INFO][9] startup/autodetection_methods.go 103: Using autodetected IPv4 address on interface weave: 10.32.0.1/12\n" +
			"2023-02-09 05:44:36.099 [WARNING][9] startup/startup.go 990: Calico node 'master01' is already using the IPv4 address 10.32.0.1.\n",
			[]string{"calico-autodetect"}, func(t *testing.T, o Observations) {
				if len(o.AddrConflicts) != 1 || o.AddrConflicts[0].Other != "master01" || o.AddrConflicts[0].Addr != "10.32.0.1" {
					t.Errorf("%+v", o.AddrConflicts)
				}
			}},
		{"address from environment", "2020-12-30 12:50:55.438 [INFO][10] startup.go 476: Using IPv4 address from environment: IP=172.16.200.103\n" +
			"2020-12-30 12:50:55.440 [INFO][10] startup.go 509: IPv4 address 172.16.200.103 discovered on interface bond0\n",
			[]string{"calico-autodetect"}, func(t *testing.T, o Observations) {
				if len(o.NodeAddrs) != 2 || o.NodeAddrs[1].Interface != "bond0" || o.NodeAddrs[0].How != "environment" {
					t.Errorf("%+v", o.NodeAddrs)
				}
			}},
		{"old calicoctl", "No IP provided. Using detected IP: 10.22.0.1\n", []string{"calico-autodetect"}, nil},
		// https://github.com/openwrt/routing/issues/1084
		{"bare bird socket error", "Socket error: Kernel does not support TCP MD5 signatures\n", []string{"bird-log"}, nil},
		// BIRD log file, seconds only (bird-zabbix README)
		{"bird slow loop", "2024-05-14 12:26:07 <WARN> I/O loop cycle took 5720 ms for 47 events\n", []string{"bird-log"}, func(t *testing.T, o Observations) {
			if !o.BirdLog[0].Slow {
				t.Errorf("%+v", o.BirdLog[0])
			}
		}},
		// svlogd lines of calico-node's BIRD (a blog post on Calico BGP)
		{"bird svlogd", "2017-08-05_09:50:21.93291 bird: Mesh_10_39_1_219: State changed to start\n", []string{"bird-log"}, nil},
		// Cisco IOS (a lab write-up on BGP notifications)
		{"cisco notification", "*Dec  3 02:08:59.528: %BGP-3-NOTIFICATION: sent to neighbor 10.12.1.1 passive 2/2 (peer in wrong AS) 2 bytes FF78\n",
			[]string{"router-log"}, func(t *testing.T, o Observations) {
				ev := o.RouterEvents[0]
				if ev.Neighbor != "10.12.1.1" || ev.Code != 2 || ev.Subcode != 2 || !ev.Sent {
					t.Errorf("%+v", ev)
				}
			}},
		// Arista EOS (a containerlab tutorial)
		{"arista notification", "Bgp: %BGP-3-NOTIFICATION: received from neighbor 10.0.0.4 (VRF default AS 65000) 6/2 (Cease/administrative shutdown) reason:\n",
			[]string{"router-log"}, func(t *testing.T, o Observations) {
				ev := o.RouterEvents[0]
				if ev.Neighbor != "10.0.0.4" || ev.Code != 6 || ev.Subcode != 2 || ev.Sent {
					t.Errorf("%+v", ev)
				}
			}},
		// https://github.com/metallb/metallb/issues/391
		{"metallb notification", `{"caller":"bgp.go:349","error":"got BGP notification code 0x0203 (Bad BGP identifier)","event":"peerNotification","localASN":64512,"msg":"peer sent notification, closing session","peer":"10.96.0.100:179","peerASN":64512,"ts":"2019-01-25T22:23:55.967465026Z"}` + "\n",
			[]string{"router-log"}, func(t *testing.T, o Observations) {
				ev := o.RouterEvents[0]
				if ev.Neighbor != "10.96.0.100" || ev.Code != 2 || ev.Subcode != 3 {
					t.Errorf("%+v", ev)
				}
			}},
		// https://github.com/osrg/gobgp/issues/2221
		{"gobgp md5", `Dec 23 13:09:44 rs-GoBGP bgpd[18700]: time="2019-12-23T13:09:44+09:00" level=warning msg="failed to set md5: cannot allocate memory" Key=210.171.225.146 Topic=Peer` + "\n",
			[]string{"router-log"}, func(t *testing.T, o Observations) {
				if ev := o.RouterEvents[0]; ev.MD5 != "setfail" || ev.Neighbor != "210.171.225.146" {
					t.Errorf("%+v", ev)
				}
			}},
		// https://github.com/projectcalico/calico/issues/4059 era calicoctl docs: old `calicoctl status`
		{"old calicoctl status", "calico-node container is running. Status: Up 13 minutes\n\nIPv4 BGP status\n" +
			"+--------------+-------------------+-------+----------+-------------+\n" +
			"| Peer address |     Peer type     | State |  Since   |     Info    |\n" +
			"+--------------+-------------------+-------+----------+-------------+\n" +
			"| 172.17.42.21 | node-to-node mesh |   up  | 16:17:25 | Established |\n" +
			"| 10.20.30.40  |       global      | start | 16:28:38 |   Connect   |\n",
			[]string{"calicoctl-node-status"}, func(t *testing.T, o Observations) {
				st := o.Status[0]
				if !st.CalicoRunning || len(st.Peers) != 2 || st.Peers[1].Type != "global" {
					t.Errorf("%+v", st)
				}
			}},
		{"headerless cut row", "| 10.0.0.2 | node-to-node mesh | start | 09:00:00 | Active Socket: Connection ref\n",
			[]string{"calicoctl-node-status"}, func(t *testing.T, o Observations) {
				if p := o.Status[0].Peers[0]; p.Info != "Active Socket: Connection refused" {
					t.Errorf("%+v", p)
				}
			}},
		// https://github.com/projectcalico/calicoctl/issues/2108 (corpus2's copy of the event)
		{"glued readiness", "calico/node is not ready: BIRD is not ready: BGP not established with 10.0.0.622020-02-10 23:40:51.553 [INFO][1234] health.go 156\n",
			[]string{"readiness"}, func(t *testing.T, o Observations) {
				if got := strings.Join(o.Readiness[0].NotEstablished, ","); got != "10.0.0.62" {
					t.Errorf("peers %q", got)
				}
			}},
		// https://github.com/kontena/pharos-cluster/issues/316
		{"kubectl get pods", "NAME                READY     STATUS    RESTARTS   AGE       IP           NODE\ncalico-node-8ms9b   2/2       Running   0          8m        10.255.0.2   terom-pharos-2\n",
			[]string{"kubectl-pods"}, func(t *testing.T, o Observations) {
				if p := o.Pods[0]; !p.CalicoNode() || p.IP != "10.255.0.2" || p.Node != "terom-pharos-2" {
					t.Errorf("%+v", p)
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

func TestSplitPaste(t *testing.T) {
	paste := "```\n$ calicoctl node status\nCalico process is running.\n\nIPv4 BGP status\n" +
		"| PEER ADDRESS | PEER TYPE | STATE | SINCE | INFO |\n| 10.0.0.2 | node-to-node mesh | start | 09:00:00 | Active Socket: Connection refused |\n```\n" +
		"root@node1:~# birdc show protocols\nBIRD 1.6.8 ready.\nname     proto    table    state  since       info\n" +
		"Mesh_10_0_0_2 BGP      master   start  09:00:01    Active        Socket: Connection refused\n" +
		"bird: Mesh_10_0_0_2: Received: Bad peer AS\n"
	kinds, obs := recognizeKinds(paste)
	if strings.Join(kinds, ",") != "calicoctl-node-status,bird-protocols,bird-log" {
		t.Fatalf("kinds %v", kinds)
	}
	if len(obs.Status) != 1 || len(obs.Protocols) != 1 || len(obs.BirdLog) != 1 {
		t.Fatalf("%+v", obs)
	}
	for _, cfg := range []string{"# For peer /host/n1/ip_addr_v4\nprotocol bgp Mesh_10_0_0_1 from bgp_template {\n  neighbor 10.0.0.1 as 64512;\n}\n", "# ip address of the master\n"} {
		if got := splitPaste(splitLines([]byte(cfg))); len(got) != 1 {
			t.Errorf("%q split into %d pieces", cfg, len(got))
		}
	}
}
