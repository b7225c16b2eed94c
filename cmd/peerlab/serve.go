package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/peerlab/peerlab/internal/rotatelog"
	"github.com/peerlab/peerlab/lab"
	"github.com/peerlab/peerlab/server"
)

// testHooksEnv enables the test hooks (server.TestPanicFault) of a lab host
// and of the background owner of `up -d`; the crash-isolation tests set it.
const testHooksEnv = "PEERLAB_TEST_HOOKS"

// newServeCommand serves the gRPC API (docs/grpc.md).
func newServeCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the gRPC API: create, drive, watch and delete labs (docs/grpc.md)",
		Long: `serve exposes peerlab's gRPC API (proto/peerlab/v1) so test harnesses drive
labs without parsing CLI output. Each lab runs in its own host process: a crash
inside one lab marks it FAILED and leaves the server and the other labs running.

By default it listens on the Unix socket <state-dir>/serve.sock (mode 0600:
root and the server's user may call; --socket-group G makes it 0660 and admits
members of G, checked again per call with SO_PEERCRED). --listen HOST:PORT
listens on TCP, where every call, loopback included, must carry the bearer
token (metadata "authorization: Bearer TOKEN"; the token is generated into
--token-file, mode 0600, default <state-dir>/serve.token) or, with --tls-cert,
--tls-key and --client-ca, a client certificate. A host other than loopback
needs mutual TLS unless --insecure.

CreateLab by path, and mrt: dumps a topology names, are read for other callers
than the server's own user on the Unix socket only inside --topology-dir
folders; send the topology's text (the yaml field) instead.

Each lab host writes its own log, <state-dir>/serve/LAB.log, rotated at
--host-log-max-size MiB with --host-log-keep old files (LAB.log.1 …); what it
writes outside the log, such as a Go panic, goes to LAB.stderr.

A lab host left running by a serve that was killed is adopted by the next
serve on the same state folder. SIGTERM stops accepting calls, tears the labs
down (unless --keep-labs) and exits 0.`,
		Example: `  peerlab serve &
  grpcurl -plaintext -unix /run/peerlab/serve.sock list`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			hostLog, err := hostLogLimits(a)
			if err != nil {
				return err
			}
			socket := a.v.GetString("socket")
			if socket == "" {
				socket = filepath.Join(a.stateDir(), "serve.sock")
			}
			if err := lab.PrepareStateDir(a.stateDir()); err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Dir(socket), 0o755); err != nil {
				return fmt.Errorf("socket folder: %w", err)
			}
			tokenFile := a.v.GetString("token-file")
			if tokenFile == "" {
				tokenFile = filepath.Join(a.stateDir(), "serve.token")
			}
			return server.Serve(cmd.Context(), server.ServeOptions{
				Listen: server.ListenOptions{
					Unix: socket, TCP: a.v.GetString("listen"),
					TLSCert: a.v.GetString("tls-cert"), TLSKey: a.v.GetString("tls-key"),
					ClientCA: a.v.GetString("client-ca"), Insecure: a.v.GetBool("insecure"),
					TokenFile: tokenFile, SocketGroup: a.v.GetString("socket-group"),
				},
				Manager: server.ManagerOptions{StateDir: a.stateDir(),
					TopologyDirs: a.v.GetStringSlice("topology-dir"), HostLog: hostLog},
				KeepLabs:   a.v.GetBool("keep-labs"),
				Logger:     a.log,
				StatsEvery: a.v.GetDuration("stats-every"),
				OnListening: func(addr net.Addr) {
					fmt.Fprintf(cmd.OutOrStdout(), "serving on %s %s\n", addr.Network(), addr)
					if addr.Network() == "tcp" && a.v.GetString("tls-cert") == "" {
						fmt.Fprintf(cmd.OutOrStdout(), "bearer token in %s\n", tokenFile)
					}
				},
			})
		},
	}
	f := cmd.Flags()
	f.String("state-dir", "", "folder for lab state (default /run/peerlab as root, else per user)")
	f.String("socket", "", "Unix socket to serve on (default <state-dir>/serve.sock)")
	f.String("listen", "", "serve on TCP HOST:PORT instead (calls need the bearer token or mutual TLS)")
	f.String("token-file", "", "bearer token for TCP calls, generated 0600 when missing (default <state-dir>/serve.token)")
	f.String("socket-group", "", "group whose members may call on the Unix socket (socket mode 0660; default 0600)")
	f.StringSlice("topology-dir", nil, "folder from which any admitted caller may name topology and MRT files (repeatable; default none)")
	f.String("tls-cert", "", "server certificate (PEM) for mutual TLS")
	f.String("tls-key", "", "server key (PEM) for mutual TLS")
	f.String("client-ca", "", "CA (PEM) that signs accepted client certificates")
	f.Bool("insecure", false, "allow plaintext on a non-loopback --listen address")
	f.Bool("keep-labs", false, "leave the labs running when the server stops")
	f.Int("host-log-max-size", int(server.DefaultHostLogLimits.MaxSize>>20), "MiB one lab host log file may hold before it is rotated")
	f.Int("host-log-keep", server.DefaultHostLogLimits.Keep, "rotated lab host log files kept per lab (0: none)")
	f.Duration("stats-every", 0, "log goroutines, heap and open files at this interval (level info; 0: never); peerlab bench soak reads them")
	return cmd
}

// newLabHostCommand is the hidden `peerlab lab-host`: the process serve
// starts for each lab, which owns the lab and serves its gRPC services on a
// Unix socket. It reports "ready" or the error on file descriptor 3.
func newLabHostCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:    "lab-host --topology FILE --socket PATH",
		Short:  "Own one lab for peerlab serve (internal)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if a.v.GetString("topology") == "" || a.v.GetString("socket") == "" {
				return usageErrorf("peerlab lab-host: --topology and --socket are required")
			}
			if path := a.v.GetString("log-file"); path != "" {
				closeLog, err := a.logToFile(path, a.v.GetInt64("log-file-max-size"), a.v.GetInt("log-file-keep"))
				if err != nil {
					return err
				}
				defer closeLog()
			}
			return server.RunHost(cmd.Context(), server.HostConfig{
				TopologyFile: a.v.GetString("topology"), Socket: a.v.GetString("socket"),
				StateDir: a.stateDir(), Port: a.v.GetInt("port"), Mode: lab.Mode(a.v.GetString("mode")),
				CaptureDir: a.v.GetString("capture"), Logger: a.log,
				TestHooks: os.Getenv(testHooksEnv) == "1",
				Ready:     os.NewFile(readyFD, "ready"),
			})
		},
	}
	cmd.Flags().String("topology", "", "topology file")
	cmd.Flags().String("socket", "", "Unix socket to serve the lab's gRPC services on")
	cmd.Flags().String("log-file", "", "write the log to this file, rotated (default: standard error)")
	cmd.Flags().Int64("log-file-max-size", server.DefaultHostLogLimits.MaxSize, "bytes one --log-file file may hold before it is rotated")
	cmd.Flags().Int("log-file-keep", server.DefaultHostLogLimits.Keep, "rotated --log-file files kept")
	addLabFlags(cmd)
	return cmd
}

// hostLogLimits reads serve's --host-log-max-size (MiB) and --host-log-keep.
func hostLogLimits(a *app) (server.HostLogLimits, error) {
	mib, keep := a.v.GetInt("host-log-max-size"), a.v.GetInt("host-log-keep")
	if mib < 1 || mib > 1<<20 {
		return server.HostLogLimits{}, usageErrorf("peerlab serve: --host-log-max-size %d: give 1 to %d (MiB)", mib, 1<<20)
	}
	if keep < 0 {
		return server.HostLogLimits{}, usageErrorf("peerlab serve: --host-log-keep %d: must not be negative", keep)
	}
	return server.HostLogLimits{MaxSize: int64(mib) << 20, Keep: keep}, nil
}

// logToFile sends the app's log to a file rotated at maxSize bytes with
// keep old files (the own log of a lab host, which outlives the serve that
// started it, or of the background owner of `up -d`). At each rotation the process's standard error, where a Go
// panic lands, is emptied once it is larger than maxSize. The function
// returned closes the file.
func (a *app) logToFile(path string, maxSize int64, keep int) (func(), error) {
	w, err := rotatelog.Open(path, rotatelog.Options{MaxSize: maxSize, Keep: keep,
		OnRotate: func() { _ = rotatelog.TrimFile(os.Stderr, maxSize) }})
	if err != nil {
		return nil, usageErrorf("peerlab: --log-file-max-size, --log-file-keep: %v", err)
	}
	log, err := loggerTo(w, a.v.GetString("log-level"), a.v.GetString("log-format"))
	if err != nil {
		w.Close()
		return nil, usageErrorf("peerlab: %v", err)
	}
	a.log = log
	return func() { _ = log.Sync(); _ = w.Close() }, nil
}
