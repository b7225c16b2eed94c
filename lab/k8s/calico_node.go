package k8s

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/peerlab/peerlab/internal/bird"
)

// CalicoNodeName is the program name (argv[0]) of a lab node's calico-node
// process; the lab's executable dispatches on it.
const CalicoNodeName = "calico-node"

// The paths a calico-node reads and writes on a node; in a lab node they
// are the node's folders bind-mounted there (lab/nodehost.go).
const (
	// BIRDSocket is BIRD's control socket as calico-node runs it.
	BIRDSocket = "/var/run/calico/bird.ctl"
	// NodenameFile holds the node name; its mtime is calico-node's start.
	NodenameFile = "/var/lib/calico/nodename"
	// ConfdLog is where the lab's calico-node writes confd's lines.
	ConfdLog = "/var/log/calico/confd.log"
	// ReadinessLog is where it writes each change of BIRD readiness.
	ReadinessLog = "/var/log/calico/readiness.log"
	// BIRDConfig is what confd renders.
	BIRDConfig = "/etc/calico/confd/config/bird.cfg"
	// CAFile is the cluster CA kubespray puts on every node.
	CAFile = "/etc/kubernetes/ssl/ca.crt"
)

// CalicoNodeMain is the lab's calico-node program, run inside a node. Its
// flags are calico-node's own:
//
//	-bird-ready   BIRD readiness as the pod's readiness probe runs it
//	-bird-live    BIRD liveness (the control socket answers)
//	-confd        confd: read the node list from the API server at
//	              https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT
//	              (trusting /etc/kubernetes/ssl/ca.crt), log to
//	              /var/log/calico/confd.log, and hand each new list to
//	              the lab, which renders bird.cfg and reloads BIRD: one
//	              JSON line on stdout, one reply line ("ok" or the error)
//	              on stdin. Readiness changes go to readiness.log.
//
// args exclude argv[0]. It returns the exit status.
func CalicoNodeMain(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(CalicoNodeName, flag.ContinueOnError)
	fs.SetOutput(stderr)
	ready := fs.Bool("bird-ready", false, "check BIRD's BGP sessions as the readiness probe does")
	live := fs.Bool("bird-live", false, "check that BIRD answers on its control socket")
	confd := fs.Bool("confd", false, "run confd (the lab's: node list from the API server to BIRD)")
	threshold := fs.Duration("threshold-time", DefaultThreshold, "how long after start every peer must be Established")
	socket := fs.String("bird-socket", BIRDSocket, "BIRD control socket")
	nodename := fs.String("nodename-file", NodenameFile, "file whose mtime is calico-node's start")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), unix.SIGTERM, unix.SIGINT)
	defer stop()
	switch {
	case *confd:
		if err := runConfd(ctx, stdin, stdout, *socket, *nodename, *threshold); err != nil {
			fmt.Fprintf(stderr, "calico-node -confd: %v\n", err)
			return 1
		}
		return 0
	case *ready:
		started, err := startTime(*nodename)
		if err != nil {
			fmt.Fprintln(stdout, NotReadyMessage(err))
			return 1
		}
		if msg := BIRDReady(ctx, *socket, started, *threshold); msg != "" {
			fmt.Fprintln(stdout, msg)
			return 1
		}
		return 0
	case *live:
		if err := birdLive(ctx, *socket); err != nil {
			fmt.Fprintf(stdout, "calico/node is not ready: bird/confd is not live: %v\n", err)
			return 1
		}
		return 0
	}
	fmt.Fprintf(stderr, "usage: %s -bird-ready | -bird-live | -confd\n", CalicoNodeName)
	return 2
}

// startTime is calico-node's start as Calico reads it: nodename's mtime.
func startTime(nodename string) (time.Time, error) {
	st, err := os.Stat(nodename)
	if err != nil {
		return time.Time{}, fmt.Errorf("Failed to stat() nodename file: %w", err)
	}
	return st.ModTime(), nil
}

// birdLive asks BIRD for its status on the control socket.
func birdLive(ctx context.Context, socket string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	c, err := bird.Dial(ctx, socket)
	if err != nil {
		return fmt.Errorf("unable to connect to BIRDv4 socket: %w", err)
	}
	defer c.Close()
	if _, err := c.Cmd(ctx, "show status"); err != nil {
		return fmt.Errorf("error executing command: %w", err)
	}
	return nil
}

// runConfd is calico-node -confd until ctx ends.
func runConfd(ctx context.Context, stdin io.Reader, stdout io.Writer, socket, nodename string, threshold time.Duration) error {
	host, port := os.Getenv("KUBERNETES_SERVICE_HOST"), os.Getenv("KUBERNETES_SERVICE_PORT")
	if host == "" || port == "" {
		return errors.New("KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set")
	}
	server := "https://" + net.JoinHostPort(host, port)
	pemData, err := os.ReadFile(CAFile)
	if err != nil {
		return fmt.Errorf("read cluster CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemData) {
		return fmt.Errorf("%s holds no certificate", CAFile)
	}
	cert, err := tls.LoadX509KeyPair(ClientCertFile, ClientKeyFile)
	if err != nil {
		return fmt.Errorf("load client certificate: %w", err)
	}
	client := NewClient(pool, nil, cert)
	logf, err := os.OpenFile(ConfdLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open confd log: %w", err)
	}
	defer logf.Close()
	started, err := startTime(nodename)
	if err != nil {
		return err
	}
	ap := &applier{out: stdout, in: bufio.NewReader(stdin)}
	rl := &readinessLog{path: ReadinessLog}
	a := &Agent{
		Server:    server,
		Fetch:     func(ctx context.Context) (Snapshot, error) { return FetchSnapshot(ctx, client, server) },
		Apply:     ap.apply,
		Target:    BIRDConfig,
		Log:       logf,
		AfterTick: func(ctx context.Context) { rl.write(BIRDReady(ctx, socket, started, threshold)) },
	}
	a.Run(ctx)
	return nil
}

// applier hands node lists to the lab over the confd process's stdio.
type applier struct {
	mu  sync.Mutex
	out io.Writer
	in  *bufio.Reader
}

// apply writes a snapshot as one JSON line and reads the lab's verdict.
func (p *applier) apply(_ context.Context, snap Snapshot) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := WriteApply(p.out, snap); err != nil {
		return err
	}
	reply, err := p.in.ReadString('\n')
	if err != nil {
		return fmt.Errorf("read the lab's reply: %w", err)
	}
	if reply = strings.TrimSpace(reply); reply != "ok" {
		return errors.New(reply)
	}
	return nil
}

// WriteApply writes a snapshot as one line of the confd-to-lab protocol.
func WriteApply(w io.Writer, snap Snapshot) error {
	data, err := json.Marshal(snap)
	if err != nil {
		return fmt.Errorf("encode datastore snapshot: %w", err)
	}
	if _, err := w.Write(append(data, '\n')); err != nil {
		return fmt.Errorf("hand the datastore snapshot to the lab: %w", err)
	}
	return nil
}

// ReadApply reads one snapshot line of the confd-to-lab protocol.
func ReadApply(r *bufio.Reader) (Snapshot, error) {
	line, err := r.ReadBytes('\n')
	if err != nil {
		return Snapshot{}, err
	}
	var snap Snapshot
	if err := json.Unmarshal(line, &snap); err != nil {
		return Snapshot{}, fmt.Errorf("decode datastore snapshot from calico-node: %w", err)
	}
	return snap, nil
}

// readinessLog appends readiness verdicts to a file when they change.
type readinessLog struct {
	path string
	last *string
}

// write logs msg ("" is ready) unless it is the last one logged.
func (r *readinessLog) write(msg string) {
	if r.last != nil && *r.last == msg {
		return
	}
	r.last = &msg
	line := msg
	if line == "" {
		line = "calico/node is ready"
	}
	f, err := os.OpenFile(r.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	_, _ = fmt.Fprintf(f, "%s %s\n", time.Now().UTC().Format("2006-01-02 15:04:05.000"), line)
}
