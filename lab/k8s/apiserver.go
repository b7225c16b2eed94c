package k8s

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"time"

	"go.uber.org/zap"
)

// APIServerPort is the Kubernetes API server's secure port.
const APIServerPort = 6443

// Version is what the stand-in answers on /version.
type Version struct {
	Major      string `json:"major"`
	Minor      string `json:"minor"`
	GitVersion string `json:"gitVersion"`
	GoVersion  string `json:"goVersion"`
	Platform   string `json:"platform"`
}

// standInVersion is the Kubernetes release the stand-in claims to be.
var standInVersion = Version{Major: "1", Minor: "29", GitVersion: "v1.29.0-peerlab", GoVersion: "go1.26", Platform: "linux/amd64"}

// APIServer is a minimal Kubernetes API server stand-in: HTTPS on a
// listener the caller makes (inside a node's namespace), answering
// /healthz, /livez, /readyz, /version and /api/v1/nodes. It can be stopped
// and started again (apiserver-down).
type APIServer struct {
	cert  tls.Certificate
	nodes []NodeInfo
	log   *zap.Logger
	// cluster, clients: set by WithCluster (routes.go).
	cluster Cluster
	clients *x509.CertPool
	created time.Time
	// store holds the writable objects (datastore_routes.go); set by
	// WithStore.
	store *Store

	mu   sync.Mutex
	srv  *http.Server
	ln   net.Listener
	done chan struct{} // closed when the serving goroutine has returned
}

// NewAPIServer returns a stopped stand-in serving cert and the node list.
func NewAPIServer(cert tls.Certificate, nodes []NodeInfo, log *zap.Logger) *APIServer {
	if log == nil {
		log = zap.NewNop()
	}
	return &APIServer{cert: cert, nodes: append([]NodeInfo(nil), nodes...), log: log, created: time.Now()}
}

// WithCluster makes the stand-in serve the Kubernetes API kubectl needs
// (routes.go) from cluster, to clients presenting a certificate signed by
// one of clients; /healthz, /livez, /readyz and /version stay open, as on
// kube-apiserver. Call it before Start.
func (a *APIServer) WithCluster(cluster Cluster, clients *x509.CertPool) *APIServer {
	a.cluster, a.clients = cluster, clients
	return a
}

// errNotNumber is a query value that is not a number.
var errNotNumber = errors.New("not a number")

// Handler is the stand-in's HTTP API, without TLS.
func (a *APIServer) Handler() http.Handler {
	mux := http.NewServeMux()
	ok := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok"))
	}
	mux.HandleFunc("GET /healthz", ok)
	mux.HandleFunc("GET /livez", ok)
	mux.HandleFunc("GET /readyz", ok)
	mux.HandleFunc("GET /version", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, func(buf *bytes.Buffer) error { return json.NewEncoder(buf).Encode(standInVersion) })
	})
	if a.cluster != nil {
		a.clusterRoutes(mux)
		return mux
	}
	mux.HandleFunc("GET /api/v1/nodes", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, func(buf *bytes.Buffer) error { return EncodeNodeList(buf, a.nodes) })
	})
	return mux
}

// writeJSON renders a body first, so an encoding failure becomes a 500.
func writeJSON(w http.ResponseWriter, enc func(*bytes.Buffer) error) {
	var buf bytes.Buffer
	if err := enc(&buf); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(buf.Bytes())
}

// Start serves HTTPS on the listener listen makes (listen runs now, so the
// caller can make it inside a namespace). Starting a running stand-in is
// an error.
func (a *APIServer) Start(listen func() (net.Listener, error)) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.srv != nil {
		return errors.New("api server stand-in is already running")
	}
	ln, err := listen()
	if err != nil {
		return fmt.Errorf("api server stand-in: listen: %w", err)
	}
	srv := &http.Server{
		Handler:           a.Handler(),
		TLSConfig:         a.tlsConfig(),
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          must(zap.NewStdLogAt(a.log, zap.DebugLevel)),
	}
	done := make(chan struct{})
	a.srv, a.ln, a.done = srv, ln, done
	go func() {
		defer close(done)
		// Stop closes the listener before the server: Serve then ends with
		// net.ErrClosed, which is a normal stop, not a failure.
		err := srv.ServeTLS(ln, "", "")
		if err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			a.log.Warn("api server stand-in stopped", zap.Error(err))
		}
	}()
	a.log.Info("api server stand-in listening", zap.String("address", ln.Addr().String()))
	return nil
}

// tlsConfig serves the certificate and, with a cluster, asks for client
// certificates (verified when given; the API routes require one).
func (a *APIServer) tlsConfig() *tls.Config {
	c := &tls.Config{Certificates: []tls.Certificate{a.cert}, MinVersion: tls.VersionTLS12}
	if a.clients != nil {
		c.ClientCAs, c.ClientAuth = a.clients, tls.VerifyClientCertIfGiven
	}
	return c
}

// Addr is the listening address, or "" when stopped.
func (a *APIServer) Addr() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ln == nil {
		return ""
	}
	return a.ln.Addr().String()
}

// Running reports whether the stand-in serves.
func (a *APIServer) Running() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.srv != nil
}

// Stop closes the listener and every connection; a new Start serves again.
// Stopping a stopped stand-in does nothing.
func (a *APIServer) Stop() error {
	a.mu.Lock()
	srv, ln, done := a.srv, a.ln, a.done
	a.srv, a.ln, a.done = nil, nil, nil
	a.mu.Unlock()
	if srv == nil {
		return nil
	}
	defer func() { <-done }() // Stop returns once the server has stopped
	// Close the listener first: Serve may not have taken it over yet.
	_ = ln.Close()
	// Close, not Shutdown: a stopped API server drops its connections.
	if err := srv.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("api server stand-in: close: %w", err)
	}
	return nil
}

// must returns l; NewStdLogAt fails only for an invalid level.
func must(l *log.Logger, err error) *log.Logger {
	if err != nil {
		return log.New(io.Discard, "", 0)
	}
	return l
}
