package calicoctl

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"text/tabwriter"

	"github.com/peerlab/peerlab/lab/k8s"
)

// calicoNode is a Calico Node resource as calicoctl's Kubernetes datastore
// derives it from a Kubernetes node: its BGP spec comes from the
// projectcalico.org annotations.
type calicoNode struct {
	Name string
	// HasBGP is set when the node has a BGP address.
	HasBGP bool
	IPv4   string
	ASN    string // "" when the node uses the global AS
}

// getNodes is `calicoctl get nodes [-o wide]`.
func getNodes(ctx context.Context, w io.Writer, wide bool) error {
	nodes, err := fetchNodes(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 5, 1, 3, ' ', 0)
	if wide {
		fmt.Fprint(tw, "NAME\tASN\tIPV4\tIPV6\t\n")
	} else {
		fmt.Fprint(tw, "NAME\t\n")
	}
	for _, n := range nodes {
		if !wide {
			fmt.Fprintf(tw, "%s\t\n", n.Name)
			continue
		}
		asn, ipv4 := "", ""
		if n.HasBGP {
			asn, ipv4 = n.ASN, n.IPv4
			if asn == "" {
				asn = fmt.Sprintf("(%d)", k8s.DefaultASN)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", n.Name, asn, ipv4, "")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	return nil
}

// kubeconfig is the part of a kubeconfig calicoctl needs.
type kubeconfig struct {
	CurrentContext string `yaml:"current-context"`
	Clusters       []struct {
		Name    string `yaml:"name"`
		Cluster struct {
			Server string `yaml:"server"`
			CAData string `yaml:"certificate-authority-data"`
			CA     string `yaml:"certificate-authority"`
		} `yaml:"cluster"`
	} `yaml:"clusters"`
	Contexts []struct {
		Name    string `yaml:"name"`
		Context struct {
			Cluster string `yaml:"cluster"`
			User    string `yaml:"user"`
		} `yaml:"context"`
	} `yaml:"contexts"`
	Users []struct {
		Name string `yaml:"name"`
		User struct {
			CertData string `yaml:"client-certificate-data"`
			KeyData  string `yaml:"client-key-data"`
			Cert     string `yaml:"client-certificate"`
			Key      string `yaml:"client-key"`
		} `yaml:"user"`
	} `yaml:"users"`
}

// fetchNodes lists the nodes from the API server of $KUBECONFIG.
func fetchNodes(ctx context.Context) ([]calicoNode, error) {
	body, err := apiGet(ctx, "/api/v1/nodes")
	if err != nil {
		return nil, err
	}
	var list struct {
		Items []struct {
			Metadata struct {
				Name        string            `json:"name"`
				Annotations map[string]string `json:"annotations"`
			} `json:"metadata"`
		} `json:"items"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, fmt.Errorf("decode node list: %w", err)
	}
	var out []calicoNode
	for _, it := range list.Items {
		n := calicoNode{Name: it.Metadata.Name}
		if v, ok := it.Metadata.Annotations[k8s.AnnotationIPv4Address]; ok {
			n.HasBGP, n.IPv4 = true, v
			n.ASN = it.Metadata.Annotations[k8s.AnnotationASNumber]
		}
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// client is the server URL and TLS settings of the current context.
func (kc kubeconfig) client() (string, *tls.Config, error) {
	clusterName, userName := "", ""
	for _, c := range kc.Contexts {
		if c.Name == kc.CurrentContext {
			clusterName, userName = c.Context.Cluster, c.Context.User
		}
	}
	conf := &tls.Config{MinVersion: tls.VersionTLS12}
	server := ""
	for _, c := range kc.Clusters {
		if c.Name != clusterName {
			continue
		}
		server = c.Cluster.Server
		ca, err := dataOrFile(c.Cluster.CAData, c.Cluster.CA)
		if err != nil {
			return "", nil, fmt.Errorf("cluster CA: %w", err)
		}
		if len(ca) > 0 {
			conf.RootCAs = x509.NewCertPool()
			if !conf.RootCAs.AppendCertsFromPEM(ca) {
				return "", nil, errors.New("cluster CA holds no certificate")
			}
		}
	}
	if server == "" {
		return "", nil, fmt.Errorf("context %q names no cluster with a server", kc.CurrentContext)
	}
	for _, u := range kc.Users {
		if u.Name != userName {
			continue
		}
		certPEM, err := dataOrFile(u.User.CertData, u.User.Cert)
		if err != nil {
			return "", nil, fmt.Errorf("client certificate: %w", err)
		}
		keyPEM, err := dataOrFile(u.User.KeyData, u.User.Key)
		if err != nil {
			return "", nil, fmt.Errorf("client key: %w", err)
		}
		if len(certPEM) > 0 {
			cert, err := tls.X509KeyPair(certPEM, keyPEM)
			if err != nil {
				return "", nil, fmt.Errorf("client certificate: %w", err)
			}
			conf.Certificates = []tls.Certificate{cert}
		}
	}
	return server, conf, nil
}

// dataOrFile is base64 data when given, else the file's content.
func dataOrFile(data, file string) ([]byte, error) {
	if data != "" {
		return base64.StdEncoding.DecodeString(data)
	}
	if file == "" {
		return nil, nil
	}
	return os.ReadFile(file)
}
