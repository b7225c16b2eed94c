package k8s

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"sync"
	"text/template"
)

// ManifestConfig is what kubespray's static pod manifest for nginx-proxy
// (roles/kubernetes/node/templates/manifests/nginx-proxy.manifest.j2) is
// rendered from.
type ManifestConfig struct {
	// Image is nginx_image_repo:nginx_image_tag; "" means kubespray's
	// default docker.io/library/nginx:1.25.2-alpine.
	Image string
	// HealthPort is the probes' port (nginx's /healthz server); 0 leaves
	// the probes out.
	HealthPort uint16
	// ConfigDir is nginx_config_dir, mounted at /etc/nginx; "" means
	// /etc/nginx.
	ConfigDir string
	// NginxConf is the rendered nginx.conf, whose checksum kubespray puts
	// in an annotation so that a changed config restarts the pod.
	NginxConf []byte
}

// DefaultNginxImage is kubespray's nginx image for nginx-proxy.
const DefaultNginxImage = "docker.io/library/nginx:1.25.2-alpine"

// manifestTemplate keeps kubespray's shape: a host-network pod in
// kube-system, system-node-critical, probes on /healthz, /etc/nginx from
// the host.
var manifestTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("nginx-proxy.yml").Parse(manifestText))
})

// manifestText is the text of manifestTemplate.
const manifestText = `apiVersion: v1
kind: Pod
metadata:
  name: nginx-proxy
  namespace: kube-system
  labels:
    addonmanager.kubernetes.io/mode: Reconcile
    k8s-app: kube-nginx
  annotations:
    nginx-cfg-checksum: "{{.Checksum}}"
spec:
  hostNetwork: true
  dnsPolicy: ClusterFirstWithHostNet
  nodeSelector:
    kubernetes.io/os: linux
  priorityClassName: system-node-critical
  containers:
  - name: nginx-proxy
    image: {{.Image}}
    imagePullPolicy: IfNotPresent
    resources:
      requests:
        cpu: 25m
        memory: 32M
    securityContext:
      privileged: true
{{- if .HealthPort}}
    livenessProbe:
      httpGet:
        path: /healthz
        port: {{.HealthPort}}
    readinessProbe:
      httpGet:
        path: /healthz
        port: {{.HealthPort}}
{{- end}}
    volumeMounts:
    - mountPath: /etc/nginx
      name: etc-nginx
      readOnly: true
  volumes:
  - name: etc-nginx
    hostPath:
      path: {{.ConfigDir}}
`

// RenderManifest writes the nginx-proxy static pod manifest for c.
func RenderManifest(w io.Writer, c ManifestConfig) error {
	if c.Image == "" {
		c.Image = DefaultNginxImage
	}
	if c.ConfigDir == "" {
		c.ConfigDir = "/etc/nginx"
	}
	for _, s := range []string{c.Image, c.ConfigDir} {
		if strings.ContainsAny(s, " \"'\n\t#") {
			return fmt.Errorf("render nginx-proxy manifest: %q cannot be written as a plain YAML scalar", s)
		}
	}
	sum := sha1.Sum(c.NginxConf)
	data := struct {
		ManifestConfig
		Checksum string
	}{c, hex.EncodeToString(sum[:])}
	if err := manifestTemplate().Execute(w, data); err != nil {
		return fmt.Errorf("render nginx-proxy manifest: %w", err)
	}
	return nil
}
