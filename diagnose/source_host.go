package diagnose

import "os"

// HostPaths are where a real Calico node keeps what a host diagnosis
// reads; the zero value of a field means its default.
type HostPaths struct {
	// BirdSocket defaults to /var/run/calico/bird.ctl, falling back to
	// /var/run/bird/bird.ctl.
	BirdSocket string
	// BirdConfig defaults to /etc/calico/confd/config/bird.cfg.
	BirdConfig string
	// BirdLog is BIRD's log file, if it writes one (none by default:
	// calico-node sends BIRD's log to its own output).
	BirdLog string
	// CalicoLogDir holds calico-node's *.log files (/var/log/calico by default).
	CalicoLogDir string
	// Manifests defaults to /etc/kubernetes/manifests.
	Manifests string
	// NginxConf defaults to /etc/nginx/nginx.conf.
	NginxConf string
	// APIProxy defaults to 127.0.0.1:6443.
	APIProxy string
	// Interface is where BGP is captured; default eth0; "-" disables.
	Interface string
}

// HostTarget returns the live target of the node this process runs on,
// in its own network namespace, read-only.
func HostTarget(p HostPaths) NodeTarget {
	def := func(v, d string) string {
		if v == "" {
			return d
		}
		return v
	}
	t := NodeTarget{
		NSPath:       "",
		BirdConfigs:  []string{def(p.BirdConfig, "/etc/calico/confd/config/bird.cfg")},
		CalicoLogDir: def(p.CalicoLogDir, "/var/log/calico"),
		NginxConf:    def(p.NginxConf, "/etc/nginx/nginx.conf"),
		ManifestsDir: def(p.Manifests, "/etc/kubernetes/manifests"),
		APIProxy:     def(p.APIProxy, "127.0.0.1:6443"),
		Interface:    def(p.Interface, "eth0"),
	}
	if t.Interface == "-" {
		t.Interface = ""
	}
	if p.BirdSocket != "" {
		t.BirdSockets = []string{p.BirdSocket}
	} else {
		t.BirdSockets = []string{"/var/run/calico/bird.ctl", "/var/run/bird/bird.ctl"}
	}
	if p.BirdLog != "" {
		t.BirdLogs = []string{p.BirdLog}
	}
	t.Name, _ = os.Hostname()
	if t.Name == "" {
		t.Name = "host"
	}
	return t
}
