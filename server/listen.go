package server

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// ErrInsecureListen is returned when a TCP address other than loopback is
// asked for without mutual TLS and without Insecure.
var ErrInsecureListen = errors.New("listening beyond loopback needs --tls-cert, --tls-key and --client-ca (mutual TLS), or --insecure")

// ListenOptions say where and how `peerlab serve` listens.
type ListenOptions struct {
	// Unix is the socket path used when TCP is empty.
	Unix string
	// TCP is host:port. A loopback host needs nothing more; any other needs
	// the TLS files, or Insecure.
	TCP string
	// TLSCert, TLSKey and ClientCA turn on mutual TLS: the server presents
	// the certificate and requires client certificates signed by ClientCA.
	TLSCert, TLSKey, ClientCA string
	// Insecure allows plaintext on a non-loopback address.
	Insecure bool
}

// Listen opens the listener opts describe and returns the server options
// (transport credentials) that go with it.
func Listen(opts ListenOptions) (net.Listener, []grpc.ServerOption, error) {
	tlsGiven := opts.TLSCert != "" || opts.TLSKey != "" || opts.ClientCA != ""
	if tlsGiven && (opts.TLSCert == "" || opts.TLSKey == "" || opts.ClientCA == "") {
		return nil, nil, errors.New("mutual TLS needs all of --tls-cert, --tls-key and --client-ca")
	}
	var sopts []grpc.ServerOption
	if tlsGiven {
		creds, err := mtlsCredentials(opts)
		if err != nil {
			return nil, nil, err
		}
		sopts = append(sopts, grpc.Creds(creds))
	}
	if opts.TCP == "" {
		if opts.Unix == "" {
			return nil, nil, errors.New("no address to listen on")
		}
		_ = os.Remove(opts.Unix)
		ln, err := net.Listen("unix", opts.Unix)
		if err != nil {
			return nil, nil, fmt.Errorf("listen on %s: %w", opts.Unix, err)
		}
		if err := os.Chmod(opts.Unix, 0o660); err != nil {
			ln.Close()
			return nil, nil, fmt.Errorf("chmod %s: %w", opts.Unix, err)
		}
		return ln, sopts, nil
	}
	loop, err := isLoopback(opts.TCP)
	if err != nil {
		return nil, nil, err
	}
	if !loop && !tlsGiven && !opts.Insecure {
		return nil, nil, fmt.Errorf("--listen %s: %w", opts.TCP, ErrInsecureListen)
	}
	ln, err := net.Listen("tcp", opts.TCP)
	if err != nil {
		return nil, nil, fmt.Errorf("listen on %s: %w", opts.TCP, err)
	}
	return ln, sopts, nil
}

// isLoopback reports whether addr's host is a loopback address (or
// "localhost"); an empty host (all addresses) is not.
func isLoopback(addr string) (bool, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false, fmt.Errorf("--listen %s: %w", addr, err)
	}
	switch host {
	case "localhost":
		return true, nil
	case "":
		return false, nil // every address
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return false, fmt.Errorf("--listen %s: host must be an IP address or localhost", addr)
	}
	return ip.IsLoopback(), nil
}

// mtlsCredentials loads the server certificate and the client CA.
func mtlsCredentials(opts ListenOptions) (credentials.TransportCredentials, error) {
	cert, err := tls.LoadX509KeyPair(opts.TLSCert, opts.TLSKey)
	if err != nil {
		return nil, fmt.Errorf("load --tls-cert/--tls-key: %w", err)
	}
	caPEM, err := os.ReadFile(opts.ClientCA)
	if err != nil {
		return nil, fmt.Errorf("read --client-ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("--client-ca %s: no PEM certificate found", opts.ClientCA)
	}
	return credentials.NewTLS(&tls.Config{
		Certificates: []tls.Certificate{cert},
		ClientCAs:    pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   tls.VersionTLS12,
	}), nil
}
