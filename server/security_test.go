package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/peerlab/peerlab/client"
	pb "github.com/peerlab/peerlab/proto/peerlab/v1"
)

// TestListenRules checks which listeners start: Unix sockets; loopback TCP
// with a token file or mutual TLS, never with neither; a non-loopback
// address (0.0.0.0, bound only, no traffic) only with mutual TLS or
// --insecure (and then the token).
func TestListenRules(t *testing.T) {
	dir := shortTempDir(t)
	pki := newPKI(t, dir)
	tok := filepath.Join(dir, "serve.token")
	tests := []struct {
		name    string
		opts    ListenOptions
		wantErr error
		errText string
	}{
		{"unix socket", ListenOptions{Unix: filepath.Join(dir, "s.sock")}, nil, ""},
		{"unix socket with TLS flags", ListenOptions{Unix: filepath.Join(dir, "t.sock"), TLSCert: pki.serverCert, TLSKey: pki.serverKey, ClientCA: pki.caCert}, nil, "mutual TLS is for --listen"},
		{"loopback v4", ListenOptions{TCP: "127.0.0.1:0", TokenFile: tok}, nil, ""},
		{"loopback v6", ListenOptions{TCP: "[::1]:0", TokenFile: tok}, nil, ""},
		{"localhost", ListenOptions{TCP: "localhost:0", TokenFile: tok}, nil, ""},
		{"loopback without token or TLS", ListenOptions{TCP: "127.0.0.1:0"}, ErrNoTCPAuth, ""},
		{"loopback with mTLS, no token", ListenOptions{TCP: "127.0.0.1:0", TLSCert: pki.serverCert, TLSKey: pki.serverKey, ClientCA: pki.caCert}, nil, ""},
		{"all addresses without TLS", ListenOptions{TCP: "0.0.0.0:0", TokenFile: tok}, ErrInsecureListen, ""},
		{"empty host without TLS", ListenOptions{TCP: ":0", TokenFile: tok}, ErrInsecureListen, ""},
		{"host name", ListenOptions{TCP: "example.invalid:0", TokenFile: tok}, nil, "IP address"},
		{"all addresses, insecure", ListenOptions{TCP: "0.0.0.0:0", Insecure: true, TokenFile: tok}, nil, ""},
		{"all addresses, insecure, no token", ListenOptions{TCP: "0.0.0.0:0", Insecure: true}, ErrNoTCPAuth, ""},
		{"all addresses with mTLS", ListenOptions{TCP: "0.0.0.0:0", TLSCert: pki.serverCert, TLSKey: pki.serverKey, ClientCA: pki.caCert}, nil, ""},
		{"half the TLS flags", ListenOptions{TCP: "0.0.0.0:0", TLSCert: pki.serverCert}, nil, "all of"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ln, _, err := Listen(tt.opts)
			if ln != nil {
				ln.Close()
			}
			switch {
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("err %v, want %v", err, tt.wantErr)
				}
			case tt.errText != "":
				if err == nil || !strings.Contains(err.Error(), tt.errText) {
					t.Errorf("err %v, want one with %q", err, tt.errText)
				}
			case err != nil:
				t.Errorf("err %v, want none", err)
			}
		})
	}
}

// TestServeRefusesInsecureListen runs `peerlab serve --listen 0.0.0.0:0`:
// it must exit with an error before serving.
func TestServeRefusesInsecureListen(t *testing.T) {
	bin, _ := tools(t)
	dir := shortTempDir(t)
	cmd := exec.Command(bin, "serve", "--state-dir", dir, "--listen", "0.0.0.0:0")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, cmd.Path, cmd.Args[1:]...).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "mutual TLS") || strings.Contains(string(out), "serving on") {
		t.Fatalf("serve --listen 0.0.0.0:0 without TLS: err %v, output %s", err, out)
	}
}

// TestMutualTLS serves on 127.0.0.1 with mutual TLS: a client without a
// certificate is rejected, one with a certificate from the CA is served.
func TestMutualTLS(t *testing.T) {
	dir := shortTempDir(t)
	pki := newPKI(t, dir)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrc := make(chan net.Addr, 1)
	served := make(chan error, 1)
	go func() {
		served <- Serve(ctx, ServeOptions{
			Listen:      ListenOptions{TCP: "127.0.0.1:0", TLSCert: pki.serverCert, TLSKey: pki.serverKey, ClientCA: pki.caCert},
			Manager:     ManagerOptions{StateDir: dir, HostCommand: func([]string) *exec.Cmd { return exec.Command("false") }},
			OnListening: func(a net.Addr) { addrc <- a },
		})
	}()
	var addr string
	select {
	case a := <-addrc:
		addr = a.String()
	case err := <-served:
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	caPEM, _ := os.ReadFile(pki.caCert)
	roots.AppendCertsFromPEM(caPEM)
	call := func(cfg *tls.Config) error {
		c, err := client.New(addr, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
		if err != nil {
			return err
		}
		defer c.Close()
		cctx, ccancel := context.WithTimeout(ctx, 5*time.Second)
		defer ccancel()
		_, err = c.Labs.ListLabs(cctx, &pb.ListLabsRequest{})
		return err
	}
	if err := call(&tls.Config{RootCAs: roots, ServerName: "127.0.0.1"}); err == nil {
		t.Error("a client without a certificate was served")
	}
	cert, err := tls.LoadX509KeyPair(pki.clientCert, pki.clientKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := call(&tls.Config{RootCAs: roots, ServerName: "127.0.0.1", Certificates: []tls.Certificate{cert}}); err != nil {
		t.Errorf("a client with a certificate from the CA: %v", err)
	}
	// Plaintext to a TLS server fails too.
	c, err := client.New(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	pctx, pcancel := context.WithTimeout(ctx, 5*time.Second)
	defer pcancel()
	if _, err := c.Labs.ListLabs(pctx, &pb.ListLabsRequest{}); err == nil {
		t.Error("a plaintext client was served by the mTLS server")
	}
	cancel()
	if err := <-served; err != nil {
		t.Error(err)
	}
}

// testPKI is a CA, a server certificate for 127.0.0.1 and a client
// certificate, as PEM files.
type testPKI struct {
	caCert, serverCert, serverKey, clientCert, clientKey string
}

// newPKI writes a fresh test PKI into dir.
func newPKI(t *testing.T, dir string) testPKI {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "peerlab test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	p := testPKI{}
	p.caCert = writePEM(t, dir, "ca.pem", "CERTIFICATE", caDER)
	leaf := func(name string, serial int64, usage x509.ExtKeyUsage) (string, string) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
			IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kder, _ := x509.MarshalECPrivateKey(key)
		return writePEM(t, dir, name+".pem", "CERTIFICATE", der), writePEM(t, dir, name+"-key.pem", "EC PRIVATE KEY", kder)
	}
	p.serverCert, p.serverKey = leaf("server", 2, x509.ExtKeyUsageServerAuth)
	p.clientCert, p.clientKey = leaf("client", 3, x509.ExtKeyUsageClientAuth)
	return p
}

// writePEM writes one PEM block and returns the file's path.
func writePEM(t *testing.T, dir, name, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
