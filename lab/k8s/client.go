package k8s

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"time"
)

// DialFunc dials like net.Dialer.DialContext; lab nodes pass one that
// dials inside their network namespace.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// requestTimeout bounds one API request, as client-go's default for
// calico-node's datastore requests does in spirit.
const requestTimeout = 5 * time.Second

// NewClient returns an HTTPS client that trusts only ca, presents certs
// (a client certificate, if any) and makes every connection with dial
// (nil: directly), a new one per request (no keep-alive), so each try
// meets the path to the API server as it is now.
func NewClient(ca *x509.CertPool, dial DialFunc, certs ...tls.Certificate) *http.Client {
	return &http.Client{
		Timeout: requestTimeout,
		Transport: &http.Transport{
			DialContext:       dial,
			TLSClientConfig:   &tls.Config{RootCAs: ca, Certificates: certs, MinVersion: tls.VersionTLS12},
			DisableKeepAlives: true,
			ForceAttemptHTTP2: false,
		},
	}
}

// Get fetches url and returns the status code and at most 1 MiB of body.
func Get(ctx context.Context, c *http.Client, url string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, fmt.Errorf("request %s: %w", url, err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := readLimited(resp)
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("read %s: %w", url, err)
	}
	return resp.StatusCode, body, nil
}

// FetchNodes lists the cluster's calico-nodes from the API server at base
// (https://127.0.0.1:6443).
func FetchNodes(ctx context.Context, c *http.Client, base string) ([]NodeInfo, error) {
	url := base + "/api/v1/nodes"
	code, body, err := Get(ctx, c, url)
	if err != nil {
		return nil, err
	}
	if code != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %d %s", url, code, http.StatusText(code))
	}
	return DecodeNodeList(bytesReader(body))
}

// FetchSnapshot reads what confd renders from: the node list and, when
// the API server serves Calico's group, BGPConfigurations, BGPPeers,
// Calico Nodes and kube-system Secrets. Any failed request fails it all,
// so BIRD keeps what it had.
func FetchSnapshot(ctx context.Context, c *http.Client, base string) (Snapshot, error) {
	nodes, err := FetchNodes(ctx, c, base)
	if err != nil {
		return Snapshot{}, err
	}
	s := Snapshot{Nodes: nodes}
	lists := []struct {
		path string
		into any
	}{
		{"/apis/" + CalicoAPIVersion + "/bgpconfigurations", &s.Datastore.BGPConfigurations},
		{"/apis/" + CalicoAPIVersion + "/bgppeers", &s.Datastore.BGPPeers},
		{"/apis/" + CalicoAPIVersion + "/nodes", &s.Datastore.Nodes},
		{"/api/v1/namespaces/" + CalicoNamespace + "/secrets", &s.Datastore.Secrets},
	}
	for _, l := range lists {
		url := base + l.path
		code, body, err := Get(ctx, c, url)
		if err != nil {
			return Snapshot{}, err
		}
		if code == http.StatusNotFound {
			continue // an API server without Calico's resources
		}
		if code != http.StatusOK {
			return Snapshot{}, fmt.Errorf("GET %s: %d %s", url, code, http.StatusText(code))
		}
		var list struct {
			Items json.RawMessage `json:"items"`
		}
		if err := json.Unmarshal(body, &list); err != nil {
			return Snapshot{}, fmt.Errorf("decode %s: %w", url, err)
		}
		if len(list.Items) > 0 && string(list.Items) != "null" {
			if err := json.Unmarshal(list.Items, l.into); err != nil {
				return Snapshot{}, fmt.Errorf("decode %s: %w", url, err)
			}
		}
	}
	return s, nil
}
