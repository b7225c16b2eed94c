package diagnose

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recognizeKinds returns the kinds the default registry gives data.
func recognizeKinds(data string) ([]string, Observations) {
	rec := DefaultRegistry().Recognize("t", []byte(data))
	var kinds []string
	for _, e := range rec.Evidence {
		kinds = append(kinds, e.Kind)
	}
	return kinds, rec.Obs
}

func TestRecognizeRealBirdOutput(t *testing.T) {
	files, err := filepath.Glob("../internal/bird/testdata/real/*/*.show-protocols*.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no real BIRD outputs found")
	}
	for _, f := range files {
		t.Run(filepath.Base(filepath.Dir(f))+"/"+filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			kinds, obs := recognizeKinds(string(data))
			if len(kinds) != 1 || kinds[0] != "bird-protocols" {
				t.Fatalf("kinds %v, want [bird-protocols]", kinds)
			}
			var bgp *ProtocolObs
			for i := range obs.Protocols {
				if obs.Protocols[i].Proto == "BGP" {
					bgp = &obs.Protocols[i]
				}
			}
			if bgp == nil {
				t.Fatalf("no BGP protocol in %+v", obs.Protocols)
			}
			if peerFromProtocolName(bgp.Name) == "" {
				t.Errorf("no peer address in protocol name %q", bgp.Name)
			}
			detailed := strings.Contains(f, "-all.")
			if bgp.Detailed != detailed {
				t.Errorf("Detailed = %v, want %v", bgp.Detailed, detailed)
			}
			switch {
			case strings.Contains(f, "refused"):
				if !strings.Contains(bgp.InfoDetail+bgp.LastError, "Connection refused") {
					t.Errorf("error %q/%q, want Connection refused", bgp.InfoDetail, bgp.LastError)
				}
			case strings.Contains(f, "bad-peer-as"):
				if !strings.Contains(bgp.InfoDetail+bgp.LastError, "Bad peer AS") {
					t.Errorf("error %q/%q, want Bad peer AS", bgp.InfoDetail, bgp.LastError)
				}
			case strings.Contains(f, "established"):
				if !bgp.Established() {
					t.Errorf("info %q, want Established", bgp.Info)
				}
			}
		})
	}
}

func TestRecognizers(t *testing.T) {
	tests := []struct {
		name  string
		data  string
		kinds []string
		check func(t *testing.T, o Observations)
	}{
		{"calicoctl wrapped info", "Calico process is running.\n\nIPv4 BGP status\n" +
			"+--------------+-------------------+-------+----------+--------------------------------+\n" +
			"| PEER ADDRESS |     PEER TYPE     | STATE |  SINCE   |              INFO              |\n" +
			"+--------------+-------------------+-------+----------+--------------------------------+\n" +
			"| 10.0.0.2     | node-to-node mesh | start | 09:00:00 | Active Socket: Connection      |\n" +
			"|              |                   |       |          | refused                        |\n" +
			"| 10.0.0.3     | node-to-node mesh | up    | 09:00:00 | Established                    |\n" +
			"+--------------+-------------------+-------+----------+--------------------------------+\n",
			[]string{"calicoctl-node-status"}, func(t *testing.T, o Observations) {
				st := o.Status[0]
				if !st.CalicoRunning || len(st.Peers) != 2 || st.Peers[0].Info != "Active Socket: Connection refused" {
					t.Errorf("status %+v", st)
				}
			}},
		{"calicoctl bird down", "Calico process is running.\nNone of the BGP backend processes (BIRD or GoBGP) are running.\n",
			[]string{"calicoctl-node-status"}, nil},
		{"calicoctl BIRD is not running", "Calico process is running.\nBIRD is not running\n",
			[]string{"calicoctl-node-status"}, func(t *testing.T, o Observations) {
				if !o.Status[0].BirdDown {
					t.Error("BirdDown false")
				}
			}},
		{"show protocols without heading", "Mesh_10_0_0_2 BGP master start 09:00:01 Active Socket: Connection refused\n",
			[]string{"bird-protocols"}, func(t *testing.T, o Observations) {
				if o.Protocols[0].InfoDetail != "Socket: Connection refused" {
					t.Errorf("%+v", o.Protocols[0])
				}
			}},
		{"readiness peers", "calico/node is not ready: BIRD is not ready: BGP not established with 10.0.0.2,10.0.0.3\n",
			[]string{"readiness"}, func(t *testing.T, o Observations) {
				if got := strings.Join(o.Readiness[0].NotEstablished, ","); got != "10.0.0.2,10.0.0.3" {
					t.Errorf("peers %q", got)
				}
			}},
		{"readiness socket", "calico/node is not ready: BIRD is not ready: Error querying BIRD: unable to connect to BIRDv4 socket: dial unix /var/run/calico/bird.ctl: connect: no such file or directory\n",
			[]string{"readiness"}, func(t *testing.T, o Observations) {
				if !o.Readiness[0].BirdSocketMissing {
					t.Error("BirdSocketMissing false")
				}
			}},
		{"confd refused", `2024-05-01 09:00:02.330 [ERROR][88] confd/watchersyncer.go 89: Failed to create watcher error=Get "https://127.0.0.1:6443/apis": dial tcp 127.0.0.1:6443: connect: connection refused` + "\n",
			[]string{"calico-node-log"}, func(t *testing.T, o Observations) {
				e := o.APIErrors[0]
				if e.Addr != "127.0.0.1:6443" || e.Reason != "refused" || !e.Local() {
					t.Errorf("%+v", e)
				}
			}},
		{"failed to list", "Error: Failed to list *v3.BGPPeer: Unauthorized\n", []string{"calico-node-log"}, func(t *testing.T, o Observations) {
			if len(o.DatastoreErrors) != 1 {
				t.Errorf("%+v", o)
			}
		}},
		{"failed to connect to API server", "2024-05-01 09:00:02.330 [ERROR][9] startup: failed to connect to the API server https://10.96.0.1:443: connection refused\n",
			[]string{"calico-node-log"}, func(t *testing.T, o Observations) {
				if o.APIErrors[0].Addr != "10.96.0.1:443" || o.APIErrors[0].Reason != "refused" {
					t.Errorf("%+v", o.APIErrors)
				}
			}},
		{"bird log bad peer as", "bird: Mesh_10_0_0_2: Error: Bad peer AS: 64513\n", []string{"bird-log"}, func(t *testing.T, o Observations) {
			if o.BirdLog[0].Protocol != "Mesh_10_0_0_2" || o.BirdLog[0].Message != "Error: Bad peer AS: 64513" {
				t.Errorf("%+v", o.BirdLog[0])
			}
		}},
		{"bird log unknown address", "2024-05-01 09:02:11.004 <RMT> BGP: Unexpected connect from unknown address 172.17.0.1 (port 42345)\n",
			[]string{"bird-log"}, func(t *testing.T, o Observations) {
				if o.BirdLog[0].UnknownAddress != "172.17.0.1" {
					t.Errorf("%+v", o.BirdLog[0])
				}
			}},
		{"bird log cannot assign", "bird: Mesh_10_0_0_2: Socket: Cannot assign requested address\n", []string{"bird-log"}, nil},
		{"calico log with bird and readiness lines", "bird: Mesh_10_0_0_2: Received: Bad peer AS\n" +
			"calico/node is not ready: BIRD is not ready: BGP not established with 10.0.0.2\n" +
			"2024-05-01 09:00:02.330 [ERROR][88] confd: dial tcp 127.0.0.1:6443: connect: connection refused\n",
			[]string{"readiness", "calico-node-log", "bird-log"}, nil},
		{"dmesg md5", "[ 8123.441120] TCP: MD5 Hash NOT expected for (10.0.0.2, 40312)->(10.0.0.1, 179)\n", []string{"kernel"}, func(t *testing.T, o Observations) {
			k := o.Kernel[0]
			if k.Kind != "not-expected" || k.Src != "10.0.0.2" || k.Dst != "10.0.0.1" {
				t.Errorf("%+v", k)
			}
		}},
		{"bird.cfg bird2", "router id 10.0.0.2;\ntemplate bgp bgp_template {\n  local as 64512;\n}\n# For peer /host/node1/ip_addr_v4\n" +
			"protocol bgp Mesh_10_0_0_1 from bgp_template {\n  neighbor 10.0.0.1 as 64512;\n  local 10.0.0.2 as 64512;\n  passive on;\n  password \"s#cret\";\n  ttl security on;\n}\n",
			[]string{"bird-config"}, func(t *testing.T, o Observations) {
				c := o.BirdConfigs[0]
				p := c.Peers[0]
				if c.RouterID != "10.0.0.2" || c.LocalAS != 64512 || p.Neighbor != "10.0.0.1" || p.Source != "10.0.0.2" ||
					!p.Passive || p.Password != "s#cret" || !p.TTLSecurity || p.PeerNode != "/host/node1/ip_addr_v4" {
					t.Errorf("%+v", c)
				}
			}},
		{"nginx", "stream {\n upstream kube_apiserver { least_conn; server 10.0.0.1:6443; }\n server { listen 127.0.0.1:6443; proxy_pass kube_apiserver; }\n}\nhttp { server { listen 8081; } }\n",
			[]string{"nginx-conf"}, func(t *testing.T, o Observations) {
				n := o.Nginx[0]
				if len(n.Upstreams) != 1 || n.Upstreams[0] != "10.0.0.1:6443" || n.Listen[0] != "127.0.0.1:6443" || n.HealthzPort != "8081" {
					t.Errorf("%+v", n)
				}
			}},
		{"ss", "State  Recv-Q Send-Q Local Address:Port  Peer Address:Port Process\nLISTEN 0 8 0.0.0.0:179 0.0.0.0:* users:((\"bird\",pid=1630,fd=7))\n",
			[]string{"ss-listen"}, func(t *testing.T, o Observations) {
				if o.Listeners[0].Port != 179 || o.Listeners[0].Process != "bird" {
					t.Errorf("%+v", o.Listeners)
				}
			}},
		{"ss header only", "State  Recv-Q Send-Q Local Address:Port  Peer Address:Port Process\n", []string{"ss-listen"}, func(t *testing.T, o Observations) {
			if !o.ListenersSeen || len(o.Listeners) != 0 {
				t.Errorf("%+v", o)
			}
		}},
		{"netstat", "Proto Recv-Q Send-Q Local Address           Foreign Address         State       PID/Program name\ntcp        0      0 127.0.0.1:6443          0.0.0.0:*               LISTEN      2210/nginx: master\n",
			[]string{"ss-listen"}, func(t *testing.T, o Observations) {
				if o.Listeners[0].Port != 6443 || o.Listeners[0].Process != "nginx" {
					t.Errorf("%+v", o.Listeners)
				}
			}},
		{"ip -br addr", "lo               UNKNOWN        127.0.0.1/8\neth0             UP             10.0.0.1/24\n", []string{"ip-addr"}, func(t *testing.T, o Observations) {
			if len(o.Interfaces) != 2 || o.Interfaces[1].Prefixes[0].String() != "10.0.0.1/24" {
				t.Errorf("%+v", o.Interfaces)
			}
		}},
		{"ip route", "default via 10.0.0.254 dev eth0\n10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.1\nunreachable 10.9.0.0/16 proto static\n",
			[]string{"ip-route"}, func(t *testing.T, o Observations) {
				if len(o.Routes) != 3 || o.Routes[2].Type != "unreachable" {
					t.Errorf("%+v", o.Routes)
				}
			}},
		{"kubectl nodes", "NAME STATUS ROLES AGE VERSION INTERNAL-IP EXTERNAL-IP OS-IMAGE\nm1 Ready control-plane 1d v1.29.3 10.0.0.1 <none> Ubuntu 22.04\n",
			[]string{"kubectl-nodes"}, func(t *testing.T, o Observations) {
				if o.KubeNodes[0].InternalIP != "10.0.0.1" || !o.KubeNodes[0].ControlPlane() {
					t.Errorf("%+v", o.KubeNodes)
				}
			}},
		{"daemonset env", "        env:\n        - name: CALICO_NETWORKING_BACKEND\n          valueFrom:\n            configMapKeyRef:\n              name: calico-config\n              key: calico_backend\n" +
			"        readinessProbe:\n          exec:\n            command:\n            - /bin/calico-node\n            - -felix-ready\n            - -bird-ready\n",
			[]string{"calico-manifest"}, func(t *testing.T, o Observations) {
				if !o.Manifests[0].BirdReadyProbe {
					t.Errorf("%+v", o.Manifests)
				}
			}},
		{"daemonset env value", "        - name: CALICO_NETWORKING_BACKEND\n          value: \"vxlan\"\n", []string{"calico-manifest"}, func(t *testing.T, o Observations) {
			if o.Manifests[0].Backend != "vxlan" {
				t.Errorf("%+v", o.Manifests)
			}
		}},
		{"unrelated text", "hello world\nthis is not evidence\n", nil, nil},
		{"empty", "", nil, nil},
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

func TestRegistryRefusesDuplicateKind(t *testing.T) {
	r := NewRegistry()
	if err := r.Register(ssListen{}); err != nil {
		t.Fatal(err)
	}
	if err := r.Register(ssListen{}); !errors.Is(err, ErrDuplicateKind) {
		t.Fatalf("second Register: %v, want ErrDuplicateKind", err)
	}
	if got := len(DefaultRegistry().Kinds()); got != 19 {
		t.Errorf("default registry has %d kinds, want 19", got)
	}
}

// panicky is a recognizer that panics, to prove Recognize survives it.
type panicky struct{}

func (panicky) Kind() string { return "panicky" }
func (panicky) Whole() bool  { return true }
func (panicky) Recognize(string, []byte) (Observations, []string, bool) {
	panic("boom")
}

func TestRegistryRecoversPanics(t *testing.T) {
	r := NewRegistry()
	if err := r.Register(panicky{}); err != nil {
		t.Fatal(err)
	}
	if rec := r.Recognize("x", []byte("x")); len(rec.Evidence) != 0 {
		t.Fatalf("panicking recognizer claimed input: %+v", rec)
	}
}

func TestPeerFromProtocolName(t *testing.T) {
	tests := map[string]string{
		"Mesh_10_0_0_2":                 "10.0.0.2",
		"Node_127_100_1_1_port_17901":   "127.100.1.1",
		"Global_192_168_50_1_port_1179": "192.168.50.1",
		"Mesh_fd00__2":                  "fd00::2",
		"static1":                       "",
		"Mesh_x":                        "",
	}
	for name, want := range tests {
		if got := peerFromProtocolName(name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
}

func FuzzRecognize(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/artifacts/*/*")
	more, _ := filepath.Glob("testdata/artifacts/*/*/*")
	for _, s := range append(seeds, more...) {
		if data, err := os.ReadFile(s); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("| PEER ADDRESS | PEER TYPE | STATE | SINCE | INFO |\n|  | | | | x |\n"))
	f.Add([]byte("protocol bgp x {\n}\n}}}{{{\n"))
	reg := DefaultRegistry()
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, rec := range reg.recs {
			rec.Recognize("fuzz", data) // must not panic
		}
		c := &Cluster{}
		c.Add("", "fuzz", reg.Recognize("fuzz", data))
		_ = Diagnose(c)
	})
}
