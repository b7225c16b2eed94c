package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/peerlab/peerlab/lab"
	"github.com/peerlab/peerlab/server"
)

// testHooksEnv enables the lab host's test hooks (server.TestPanicFault);
// the crash-isolation tests set it.
const testHooksEnv = "PEERLAB_TEST_HOOKS"

// newServeCommand serves the gRPC API (docs/grpc.md).
func newServeCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the gRPC API: create, drive, watch and delete labs (docs/grpc.md)",
		Long: `serve exposes peerlab's gRPC API (proto/peerlab/v1) so test harnesses drive
labs without parsing CLI output. Each lab runs in its own host process: a crash
inside one lab marks it FAILED and leaves the server and the other labs running.

By default it listens on the Unix socket <state-dir>/serve.sock. --listen
HOST:PORT listens on TCP: a loopback host needs nothing more; any other address
needs mutual TLS (--tls-cert, --tls-key, --client-ca: client certificates
required) unless --insecure. SIGTERM stops accepting calls, tears the labs down
(unless --keep-labs) and exits 0.`,
		Example: `  peerlab serve &
  grpcurl -plaintext -unix /run/peerlab/serve.sock list`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			socket := a.v.GetString("socket")
			if socket == "" {
				socket = filepath.Join(a.stateDir(), "serve.sock")
			}
			if err := os.MkdirAll(filepath.Dir(socket), 0o755); err != nil {
				return fmt.Errorf("socket folder: %w", err)
			}
			return server.Serve(cmd.Context(), server.ServeOptions{
				Listen: server.ListenOptions{
					Unix: socket, TCP: a.v.GetString("listen"),
					TLSCert: a.v.GetString("tls-cert"), TLSKey: a.v.GetString("tls-key"),
					ClientCA: a.v.GetString("client-ca"), Insecure: a.v.GetBool("insecure"),
				},
				Manager:  server.ManagerOptions{StateDir: a.stateDir()},
				KeepLabs: a.v.GetBool("keep-labs"),
				Logger:   a.log,
				OnListening: func(addr net.Addr) {
					fmt.Fprintf(cmd.OutOrStdout(), "serving on %s %s\n", addr.Network(), addr)
				},
			})
		},
	}
	f := cmd.Flags()
	f.String("state-dir", "", "folder for lab state (default /run/peerlab as root, else per user)")
	f.String("socket", "", "Unix socket to serve on (default <state-dir>/serve.sock)")
	f.String("listen", "", "serve on TCP HOST:PORT instead (loopback, or mutual TLS, or --insecure)")
	f.String("tls-cert", "", "server certificate (PEM) for mutual TLS")
	f.String("tls-key", "", "server key (PEM) for mutual TLS")
	f.String("client-ca", "", "CA (PEM) that signs accepted client certificates")
	f.Bool("insecure", false, "allow plaintext on a non-loopback --listen address")
	f.Bool("keep-labs", false, "leave the labs running when the server stops")
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
	addLabFlags(cmd)
	return cmd
}
