package k8s

import (
	"encoding/base64"
	"fmt"
	"io"
)

// Where kubespray keeps the cluster's admin credentials on a node; in a
// lab node they are the node's folder's etc/kubernetes (lab/nodehost.go).
const (
	// KubeconfigPath is the admin kubeconfig, every lab node's KUBECONFIG.
	KubeconfigPath = "/etc/kubernetes/admin.conf"
	// ClientCertFile and ClientKeyFile are the admin client certificate
	// and key the kubeconfig names.
	ClientCertFile = "/etc/kubernetes/ssl/admin.pem"
	ClientKeyFile  = "/etc/kubernetes/ssl/admin-key.pem"
	// AdminUser is the admin's user name; AdminGroup its group.
	AdminUser  = "kubernetes-admin"
	AdminGroup = "system:masters"
)

// Kubeconfig is a kubeconfig for one cluster and user.
type Kubeconfig struct {
	// Cluster names the cluster (the lab).
	Cluster string
	// Server is the API server URL, https://10.0.0.1:6443.
	Server string
	// CAPEM is the cluster CA.
	CAPEM []byte
	// Client is the admin's certificate and key, written inline; when
	// empty the kubeconfig names ClientCertFile and ClientKeyFile.
	Client ClientCert
}

// Render writes k as kubeconfig YAML, as kubespray's admin.conf.
func (k Kubeconfig) Render(w io.Writer) error {
	b64 := base64.StdEncoding.EncodeToString
	user := fmt.Sprintf("    client-certificate: %s\n    client-key: %s\n", ClientCertFile, ClientKeyFile)
	if len(k.Client.CertPEM) > 0 {
		user = fmt.Sprintf("    client-certificate-data: %s\n    client-key-data: %s\n", b64(k.Client.CertPEM), b64(k.Client.KeyPEM))
	}
	ctx := AdminUser + "@" + k.Cluster
	_, err := fmt.Fprintf(w, `apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: %s
    server: %s
  name: %s
contexts:
- context:
    cluster: %s
    namespace: default
    user: %s
  name: %s
current-context: %s
preferences: {}
users:
- name: %s
  user:
%s`, b64(k.CAPEM), k.Server, k.Cluster, k.Cluster, AdminUser, ctx, ctx, AdminUser, user)
	if err != nil {
		return fmt.Errorf("write kubeconfig: %w", err)
	}
	return nil
}
