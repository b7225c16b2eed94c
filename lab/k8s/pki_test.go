package k8s

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"net/netip"
	"slices"
	"testing"
	"time"
)

func TestCAIssuesServingCertificates(t *testing.T) {
	now := time.Now()
	ca, err := NewCA(now)
	if err != nil {
		t.Fatal(err)
	}
	if !ca.Cert.IsCA || ca.Cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		t.Errorf("CA certificate is not a CA: IsCA=%v usage=%v", ca.Cert.IsCA, ca.Cert.KeyUsage)
	}
	block, _ := pem.Decode(ca.CertPEM)
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("CertPEM is not a PEM certificate: %q", ca.CertPEM)
	}
	ips := []netip.Addr{netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("127.0.0.1")}
	cert, err := ca.IssueServing("kube-apiserver", ips, []string{"kubernetes.default"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cert.PrivateKey.(*ecdsa.PrivateKey); !ok {
		t.Errorf("serving key is %T, want ECDSA", cert.PrivateKey)
	}
	leaf := cert.Leaf
	if !slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageServerAuth) {
		t.Errorf("serving certificate lacks server auth: %v", leaf.ExtKeyUsage)
	}
	tests := []struct {
		name    string
		opts    x509.VerifyOptions
		wantErr bool
	}{
		{"node address", x509.VerifyOptions{DNSName: "10.0.0.1"}, false},
		{"loopback (nginx-proxy path)", x509.VerifyOptions{DNSName: "127.0.0.1"}, false},
		{"service name", x509.VerifyOptions{DNSName: "kubernetes.default"}, false},
		{"other address", x509.VerifyOptions{DNSName: "10.0.0.2"}, true},
		{"other CA", x509.VerifyOptions{DNSName: "10.0.0.1", Roots: x509.NewCertPool()}, true},
		{"expired", x509.VerifyOptions{DNSName: "10.0.0.1", CurrentTime: now.Add(certValidity + time.Hour)}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			if opts.Roots == nil {
				opts.Roots = ca.Pool()
			}
			_, err := leaf.Verify(opts)
			if (err != nil) != tt.wantErr {
				t.Errorf("Verify err = %v, want error %v", err, tt.wantErr)
			}
		})
	}
	other, err := NewCA(now)
	if err != nil {
		t.Fatal(err)
	}
	if other.Cert.SerialNumber.Cmp(ca.Cert.SerialNumber) == 0 {
		t.Error("two CAs share a serial number")
	}
}
