package server

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/user"
	"strconv"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// ErrInsecureListen is returned when a TCP address other than loopback is
// asked for without mutual TLS and without Insecure.
var ErrInsecureListen = errors.New("listening beyond loopback needs --tls-cert, --tls-key and --client-ca (mutual TLS), or --insecure")

// ErrNoTCPAuth is returned for a TCP listener with neither mutual TLS nor
// a token file.
var ErrNoTCPAuth = errors.New("a TCP listener needs a bearer token file (--token-file) or mutual TLS")

// ListenOptions say where and how `peerlab serve` listens.
type ListenOptions struct {
	// Unix is the socket path used when TCP is empty.
	Unix string
	// TCP is host:port. Calls need the token (TokenFile) or mutual TLS; a
	// host other than loopback also needs the TLS files, or Insecure.
	TCP string
	// TLSCert, TLSKey and ClientCA turn on mutual TLS: the server presents
	// the certificate and requires client certificates signed by ClientCA.
	TLSCert, TLSKey, ClientCA string
	// Insecure allows plaintext on a non-loopback address.
	Insecure bool
	// TokenFile keeps the bearer token every TCP call without a verified
	// client certificate must present (LoadOrCreateToken: generated 0600
	// when missing). Required for TCP without mutual TLS, loopback
	// included: on a shared host loopback is no trust boundary.
	TokenFile string
	// SocketGroup, when set (a group name or number), makes the Unix
	// socket mode 0660 in that group, whose members may then call;
	// otherwise it is 0600 and only root and the server's user may.
	SocketGroup string
}

// Listen opens the listener opts describe and returns the server options
// that go with it: transport credentials and the interceptors that admit
// callers (authPolicy). Every call must be admitted: on the Unix socket by
// the caller's credentials, on TCP by a client certificate or the token.
func Listen(opts ListenOptions) (net.Listener, []grpc.ServerOption, error) {
	ln, sopts, pol, err := listen(opts)
	if err != nil {
		return nil, nil, err
	}
	sopts = append(sopts, grpc.ChainUnaryInterceptor(pol.unary()), grpc.ChainStreamInterceptor(pol.stream()))
	return ln, sopts, nil
}

// listen opens the listener and says who may call on it.
func listen(opts ListenOptions) (net.Listener, []grpc.ServerOption, authPolicy, error) {
	var pol authPolicy
	tlsGiven := opts.TLSCert != "" || opts.TLSKey != "" || opts.ClientCA != ""
	if tlsGiven && (opts.TLSCert == "" || opts.TLSKey == "" || opts.ClientCA == "") {
		return nil, nil, pol, errors.New("mutual TLS needs all of --tls-cert, --tls-key and --client-ca")
	}
	var sopts []grpc.ServerOption
	if tlsGiven {
		creds, err := mtlsCredentials(opts)
		if err != nil {
			return nil, nil, pol, err
		}
		sopts = append(sopts, grpc.Creds(creds))
	}
	if opts.TCP == "" {
		if opts.Unix == "" {
			return nil, nil, pol, errors.New("no address to listen on")
		}
		if tlsGiven {
			return nil, nil, pol, errors.New("mutual TLS is for --listen HOST:PORT; the Unix socket checks the caller's credentials")
		}
		ln, up, err := listenUnix(opts.Unix, opts.SocketGroup)
		if err != nil {
			return nil, nil, pol, err
		}
		pol.Unix = up
		return ln, append(sopts, grpc.Creds(peerCreds{})), pol, nil
	}
	loop, err := isLoopback(opts.TCP)
	if err != nil {
		return nil, nil, pol, err
	}
	if !loop && !tlsGiven && !opts.Insecure {
		return nil, nil, pol, fmt.Errorf("--listen %s: %w", opts.TCP, ErrInsecureListen)
	}
	if !tlsGiven {
		if opts.TokenFile == "" {
			return nil, nil, pol, fmt.Errorf("--listen %s: %w", opts.TCP, ErrNoTCPAuth)
		}
		tok, err := LoadOrCreateToken(opts.TokenFile)
		if err != nil {
			return nil, nil, pol, fmt.Errorf("--listen %s: %w", opts.TCP, err)
		}
		pol.Token, pol.TokenFile = tok, opts.TokenFile
	}
	ln, err := net.Listen("tcp", opts.TCP)
	if err != nil {
		return nil, nil, pol, fmt.Errorf("listen on %s: %w", opts.TCP, err)
	}
	return ln, sopts, pol, nil
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

// listenUnix listens on a Unix socket and sets its mode explicitly (not by
// umask): 0600, or 0660 in group when one is named.
func listenUnix(path, group string) (net.Listener, *unixPolicy, error) {
	gid := -1
	if group != "" {
		g, err := lookupGroup(group)
		if err != nil {
			return nil, nil, fmt.Errorf("--socket-group %s: %w", group, err)
		}
		gid = g
	}
	_ = os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	mode := os.FileMode(0o600)
	if gid >= 0 {
		mode = 0o660
		if err := os.Chown(path, -1, gid); err != nil {
			ln.Close()
			return nil, nil, fmt.Errorf("chgrp %s: %w", path, err)
		}
	}
	if err := os.Chmod(path, mode); err != nil {
		ln.Close()
		return nil, nil, fmt.Errorf("chmod %s: %w", path, err)
	}
	return ln, &unixPolicy{UID: os.Geteuid(), GID: gid, Path: path}, nil
}

// lookupGroup resolves a group name or number.
func lookupGroup(group string) (int, error) {
	if n, err := strconv.Atoi(group); err == nil {
		return n, nil
	}
	g, err := user.LookupGroup(group)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(g.Gid)
}
