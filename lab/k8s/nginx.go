package k8s

import (
	"fmt"
	"io"
	"net/netip"
	"strings"
	"sync"
	"text/template"
)

// NginxConfig is what kubespray's nginx-proxy configuration
// (roles/kubernetes/node/templates/loadbalancer/nginx.conf.j2) is rendered
// from, plus the file paths a lab node keeps under its own folder.
type NginxConfig struct {
	// Upstreams are the control plane nodes' API server addresses
	// (kube_control_plane hosts, port kube_apiserver_port).
	Upstreams []netip.AddrPort
	// ListenPort is loadbalancer_apiserver_port: the proxy listens on
	// 127.0.0.1 at this port. 0 means APIServerPort.
	ListenPort uint16
	// HealthPort is loadbalancer_apiserver_healthcheck_port (kubespray's
	// default 8081); 0 leaves the health server out, as kubespray does
	// when it is undefined.
	HealthPort uint16
	// KeepaliveTimeout is loadbalancer_apiserver_keepalive_timeout; ""
	// means kubespray's default "5m".
	KeepaliveTimeout string
	// StreamModule is the stream module to load when nginx has it as a
	// dynamic module (Debian), "" when it is built in (kubespray's image).
	StreamModule string
	// PIDFile, ErrorLog and TempDir keep nginx's files under the node's
	// folder; "" leaves nginx's compiled-in paths.
	PIDFile, ErrorLog, TempDir string
}

// DefaultHealthPort is kubespray's loadbalancer_apiserver_healthcheck_port.
const DefaultHealthPort = 8081

// nginxTemplate follows kubespray's nginx.conf.j2 line for line, with the
// lab's paths added at the top and in the http block.
var nginxTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("nginx.conf").Parse(nginxConfText))
})

// nginxConfText is the text of nginxTemplate.
const nginxConfText = `{{if .StreamModule}}load_module {{.StreamModule}};
{{end}}{{if .PIDFile}}pid {{.PIDFile}};
{{end}}{{if .ErrorLog}}error_log {{.ErrorLog}} notice;
{{else}}error_log stderr notice;
{{end}}
worker_processes 2;
worker_rlimit_nofile 130048;
worker_shutdown_timeout 10s;

events {
  multi_accept on;
  use epoll;
  worker_connections 16384;
}

stream {
  upstream kube_apiserver {
    least_conn;
{{- range .Upstreams}}
    server {{.}};
{{- end}}
  }

  server {
    listen        127.0.0.1:{{.ListenPort}};
    proxy_pass    kube_apiserver;
    proxy_timeout 10m;
    proxy_connect_timeout 1s;
  }
}

http {
  aio threads;
  aio_write on;
  tcp_nopush on;
  tcp_nodelay on;
{{- if .TempDir}}
  client_body_temp_path {{.TempDir}}/body;
  proxy_temp_path {{.TempDir}}/proxy;
{{- end}}

  keepalive_timeout {{.KeepaliveTimeout}};
  keepalive_requests 100;
  reset_timedout_connection on;
  server_tokens off;
  autoindex off;
{{- if .HealthPort}}

  server {
    listen {{.HealthPort}};
    location /healthz {
      access_log off;
      return 200;
    }
    location /stub_status {
      stub_status on;
      access_log off;
    }
  }
{{- end}}
}
`

// RenderNginxConf writes kubespray's nginx-proxy nginx.conf for c.
func RenderNginxConf(w io.Writer, c NginxConfig) error {
	if len(c.Upstreams) == 0 {
		return fmt.Errorf("render nginx.conf: no upstream API server")
	}
	for _, s := range []string{c.StreamModule, c.PIDFile, c.ErrorLog, c.TempDir, c.KeepaliveTimeout} {
		if strings.ContainsAny(s, " ;{}\"'\n\t") {
			return fmt.Errorf("render nginx.conf: %q cannot be written unquoted", s)
		}
	}
	if c.ListenPort == 0 {
		c.ListenPort = APIServerPort
	}
	if c.KeepaliveTimeout == "" {
		c.KeepaliveTimeout = "5m"
	}
	if err := nginxTemplate().Execute(w, c); err != nil {
		return fmt.Errorf("render nginx.conf: %w", err)
	}
	return nil
}
